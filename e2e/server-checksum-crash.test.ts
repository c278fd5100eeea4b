// Checksum extension, crash safety: the server process is SIGKILLed while a checksummed
// PATCH has whole parts in the multipart upload, under their mark, but not verified.
// After a restart none of those bytes count (the offset is where it was before the
// request), the upload completes exactly, and nothing staged is left over. Both ways parts
// go out under a checksum: held whole until the next byte (Content-MD5, the default), and
// streamed as they fill, the mark put first (--part-checksum none).
import { createHash, randomBytes } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import { GetObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { listKeys, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  headOffset,
  idOf,
  patch,
  rawPatch,
  s3Backend,
  sha256Hex,
  startCli,
  uploadRest,
} from './helpers/server.js';

const MiB = 1024 * 1024;

describe.each([
  ['parts held whole (Content-MD5)', []],
  ['parts streaming (--part-checksum none)', ['--part-checksum', 'none']],
])('checksummed PATCH and a server crash (S3), %s', (_mode, modeArgs: string[]) => {
  let backend: Backend;
  let server: CliServer | undefined;
  beforeAll(async () => {
    backend = await s3Backend('ckc/');
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await backend?.cleanup();
  });

  it('SIGKILL with unverified parts staged: after restart none of them count', async () => {
    const size = 20 * MiB;
    const data = randomBytes(size);
    server = await startCli([...backend.cliArgs, '--part-size', '5MiB', ...modeArgs]);
    const url0 = await createUpload(server.url, size);
    const id = idOf(url0);
    // 2 MiB acknowledged first (a staged tail segment).
    expect((await patch(url0, 0, data.subarray(0, 2 * MiB))).status).toBe(204);

    const body = data.subarray(2 * MiB);
    const checksum = `sha256 ${createHash('sha256').update(body).digest('base64')}`;
    const bucket = backend.bucket as string;
    const s3 = testS3Client();
    const info = JSON.parse(
      await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `ckc/${id}.info` }))
      ).Body!.transformToString(),
    ) as { uploadId: string };
    const partsInUpload = async () =>
      (
        await s3.send(
          new ListPartsCommand({ Bucket: bucket, Key: `ckc/${id}`, UploadId: info.uploadId }),
        )
      ).Parts?.length ?? 0;
    const marks = async () =>
      (await listKeys(bucket, `ckc/${id}`)).filter((k) => k.includes('.unv.'));
    let req!: ClientRequest;
    void rawPatch(url0, 2 * MiB, body.length, (r) => (req = r), { 'Upload-Checksum': checksum });
    // Everything but the last MiB: parts 1-3 go into the upload under a mark (part 1 with
    // the earlier segment folded in), before the body is complete.
    req.write(body.subarray(0, body.length - MiB));
    let parts = 0;
    for (let i = 0; i < 200 && parts < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      parts = await partsInUpload();
    }
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(await marks()).toHaveLength(1);
    await server.stop('SIGKILL');
    req.destroy();

    server = await startCli([...backend.cliArgs, '--part-size', '5MiB', ...modeArgs]);
    const url = `${server.url}/${id}`;
    // Offset unchanged: nothing of the unverified request counts, the earlier segment does
    // (it is deleted only once the part it was folded into counts).
    expect(await headOffset(url)).toBe(2 * MiB);
    expect(await partsInUpload()).toBeGreaterThanOrEqual(2);
    // Resend with the checksum: accepted, object exact, the crash's leftovers gone.
    const ok = await patch(url, 2 * MiB, body, { 'Upload-Checksum': checksum });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('upload-offset')).toBe(String(size));
    expect(await uploadRest(url, data, size)).toBe(size);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
    expect(await listKeys(backend.bucket as string, `ckc/${id}`)).toEqual([
      `ckc/${id}`,
      `ckc/${id}.info`,
    ]);
  });
});
