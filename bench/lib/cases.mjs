// The cases of the benchmark: who uploads (client), to what (server, with which extra
// flags), into which bucket. Our server runs with --part-checksum none in C and D: A and B
// send no body checksum either (lib-storage with WHEN_REQUIRED, @tus/s3-store), so all
// four pay for the same integrity; Cmd5 shows what our default (Content-MD5) costs.
const NO_MD5 = ['--part-checksum', 'none'];

export const CASES = {
  A: { id: 'A', label: 'A: lib-storage → S3', client: 'aws', server: null, bucket: 'bench-a' },
  // The ceiling of any protocol that sends one 8 MiB part and waits for it (tus-js-client's
  // 8 MiB PATCHes): lib-storage straight to S3 with one part in flight.
  A1: {
    id: 'A1',
    label: 'A, one part at a time (queueSize 1)',
    client: 'aws',
    server: null,
    bucket: 'bench-a',
    queueSize: 1,
  },
  B: {
    id: 'B',
    label: 'B: @tus/server+s3-store, tus-js-client',
    client: 'tusjs',
    server: 'stock',
    bucket: 'bench-b',
  },
  C: {
    id: 'C',
    label: 'C: our server, tus-js-client',
    client: 'tusjs',
    server: 'ours',
    serverArgs: NO_MD5,
    bucket: 'bench-c',
  },
  Cmd5: {
    id: 'Cmd5',
    label: 'C + Content-MD5 (our default)',
    client: 'tusjs',
    server: 'ours',
    serverArgs: [],
    bucket: 'bench-c',
  },
  D: {
    id: 'D',
    label: 'D: our server, our client (one stream)',
    client: 'ours',
    server: 'ours',
    serverArgs: NO_MD5,
    bucket: 'bench-d',
  },
  // Issue 22: the server hashes every upload (--digest sha256), nothing else changes.
  Cdg: {
    id: 'Cdg',
    label: 'C + server SHA-256 (--digest sha256)',
    client: 'tusjs',
    server: 'ours',
    serverArgs: [...NO_MD5, '--digest', 'sha256'],
    bucket: 'bench-c',
  },
  Ddg: {
    id: 'Ddg',
    label: 'D + server SHA-256 (--digest sha256)',
    client: 'ours',
    server: 'ours',
    serverArgs: [...NO_MD5, '--digest', 'sha256'],
    bucket: 'bench-d',
  },
  // Issue 22, instant upload: our client with dedupe against our server with the index
  // (--instant-upload, which needs --digest sha256). Ddu: content new to the tenant, so
  // hashed, challenged, then uploaded normally; Ddi: the same file again after a priming
  // upload (`prime`), so proven and copied server-side with no byte sent.
  Ddu: {
    id: 'Ddu',
    label: 'D + --dedupe, new content (uploaded)',
    client: 'ours',
    server: 'ours',
    serverArgs: [...NO_MD5, '--digest', 'sha256', '--instant-upload'],
    bucket: 'bench-d',
    dedupe: 'uploaded',
    needs: 'instant',
  },
  Ddi: {
    id: 'Ddi',
    label: 'D + --dedupe, content stored (instant)',
    client: 'ours',
    server: 'ours',
    serverArgs: [...NO_MD5, '--digest', 'sha256', '--instant-upload'],
    bucket: 'bench-d',
    dedupe: 'instant',
    prime: true,
    needs: 'instant',
  },
  Dp4: {
    id: 'Dp4',
    label: 'D: our client, parallel 4',
    client: 'ours',
    server: 'ours',
    serverArgs: NO_MD5,
    bucket: 'bench-d',
    parallel: 4,
    needs: 'parallel',
  },
  Dp4s: {
    id: 'Dp4s',
    label: 'D: our client, parallel 4 + sha256',
    client: 'ours',
    server: 'ours',
    serverArgs: NO_MD5,
    bucket: 'bench-d',
    parallel: 4,
    checksum: 'sha256',
    needs: 'checksum',
  },
};
