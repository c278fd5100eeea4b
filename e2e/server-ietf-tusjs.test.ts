// Stock tus-js-client 4.3.1 in its IETF draft modes against our server (Express
// middleware) on RGW: 'ietf-draft-05' (interop 6) cut mid-PATCH by a proxy that drops the
// connection, resumed from the offset the server's HEAD answers (the bytes that arrived
// before the cut, kept in S3), exact in S3; 'ietf-draft-03' (interop 5) is served too
// (as 6 without the PATCH media type), the same way; tus 1.0 likewise, for comparison.
import { randomBytes } from 'node:crypto';
import * as tusJs from 'tus-js-client';
import { type FaultProxy, startProxy } from './helpers/client-proxy.js';
import {
  type Backend,
  idOf,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const CUT = 6 * MiB + 12345;

type Protocol = 'ietf-draft-03' | 'ietf-draft-05' | 'tus-v1';

interface Seen {
  interop: Set<string>;
  patchTypes: Set<string>;
  completes: string[];
}

function upload(
  data: Buffer,
  opts: tusJs.UploadOptions,
): Promise<{ url: string; failed: boolean }> {
  return new Promise((resolve) => {
    const up = new tusJs.Upload(data, {
      ...opts,
      onError: () => resolve({ url: up.url as string, failed: true }),
      onSuccess: () => resolve({ url: up.url as string, failed: false }),
    });
    up.start();
  });
}

describe.each([
  ['ietf-draft-05', '6'],
  ['ietf-draft-03', '5'],
  // The same cut in tus 1.0, for comparison: the draft keeps tus mode's guarantees.
  ['tus-v1', 'undefined'],
] as Array<[Protocol, string]>)(
  'tus-js-client 4.3.1 with protocol %s (interop %s)',
  (protocol, interop) => {
    let backend: Backend;
    let server: RunningServer;
    let proxy: FaultProxy;
    const seen: Seen = { interop: new Set(), patchTypes: new Set(), completes: [] };
    beforeAll(async () => {
      backend = await s3Backend('tusjs-draft/');
      const note = (req: import('node:http').IncomingMessage) => {
        seen.interop.add(String(req.headers['upload-draft-interop-version']));
        if (req.method !== 'PATCH') return;
        seen.patchTypes.add(String(req.headers['content-type']));
        seen.completes.push(String(req.headers['upload-complete']));
      };
      server = await startInProcess(
        { ...backend.options, partSize: PART },
        {
          before: (app) =>
            app.use((req, _res, next) => {
              note(req);
              next();
            }),
        },
      );
      proxy = await startProxy({ targetPort: Number(new URL(server.url).port) });
    });
    afterAll(async () => {
      await proxy?.close();
      await server?.close();
      await backend?.cleanup();
    });

    it('uploads 16 MiB, cut mid-PATCH, resumed from the offset the server answers; exact', async () => {
      const data = randomBytes(16 * MiB + 4321);
      const base = {
        endpoint: `${proxy.origin}${new URL(server.url).pathname}`,
        protocol,
        chunkSize: 4 * MiB,
        retryDelays: [],
        metadata: { filename: 'draft.bin', filetype: 'application/x-draft' },
      };
      // First run: the connection dropped once CUT bytes went up (headers included), in the
      // middle of the second PATCH's body; no retry.
      proxy.set({ cutEveryBytes: CUT });
      const first = await upload(data, base);
      expect(first.failed).toBe(true);
      expect(proxy.cuts).toBe(1);
      // Bytes that went up, headers included; the cut connection carried at most these.
      const upToCut = proxy.bytesUp;
      proxy.set({ cutEveryBytes: Number.POSITIVE_INFINITY });
      // Second run: the same upload URL; tus-js-client asks HEAD for the offset first.
      let resumedFrom = -1;
      const second = await upload(data, {
        ...base,
        uploadUrl: first.url,
        onProgress: (sent) => {
          if (resumedFrom < 0) resumedFrom = sent;
        },
      });
      expect(second).toEqual({ url: first.url, failed: false });
      // Past the first 4 MiB chunk: what arrived of the cut PATCH was kept, not whole chunks only.
      expect(resumedFrom).toBeGreaterThan(4 * MiB);
      expect(resumedFrom).toBeLessThan(upToCut);
      expect(await backend.sha256Of(idOf(second.url))).toBe(sha256Hex(data));
      expect(await backend.contentTypeOf(idOf(second.url))).toBe('application/x-draft');
      expect(seen.interop).toEqual(new Set([interop]));
      const type = {
        'ietf-draft-05': 'application/partial-upload',
        'ietf-draft-03': 'undefined',
        'tus-v1': 'application/offset+octet-stream',
      }[protocol];
      expect(seen.patchTypes).toEqual(new Set([type]));
      expect(seen.completes.at(-1)).toBe(protocol === 'tus-v1' ? 'undefined' : '?1');
      process.stdout.write(
        `${protocol}: connection cut after ${upToCut} bytes up, resumed from ${resumedFrom}, ${data.length} bytes exact\n`,
      );
    });
  },
);
