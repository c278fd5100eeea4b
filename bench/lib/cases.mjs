// The cases of the benchmark: who uploads (client), to what (server), into which bucket.
export const CASES = {
  A: { id: 'A', label: 'A: lib-storage → S3', client: 'aws', server: null, bucket: 'bench-a' },
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
    bucket: 'bench-c',
  },
  D: {
    id: 'D',
    label: 'D: our server, our client (one stream)',
    client: 'ours',
    server: 'ours',
    bucket: 'bench-d',
  },
  Dp4: {
    id: 'Dp4',
    label: 'D: our client, parallel 4',
    client: 'ours',
    server: 'ours',
    bucket: 'bench-d',
    parallel: 4,
    needs: 'parallel',
  },
  Dp4s: {
    id: 'Dp4s',
    label: 'D: our client, parallel 4 + sha256',
    client: 'ours',
    server: 'ours',
    bucket: 'bench-d',
    parallel: 4,
    checksum: 'sha256',
    needs: 'checksum',
  },
};
