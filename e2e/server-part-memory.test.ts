// The part-memory budget: with room for less than one part, every buffer is granted
// alone, so PATCHes of several parts, one at a time and several at once, must still all
// finish (no deadlock) and store exact bytes, and every granted byte must come back.
import { randomBytes } from 'node:crypto';
import { S3_MIN_PART_SIZE, type S3MultipartStore } from '@tus-s3/server';
import {
  type Backend,
  createUpload,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
} from './helpers/server.js';

const PS = S3_MIN_PART_SIZE;

describe('part memory budget smaller than one part', () => {
  let backend: Backend;
  let server: RunningServer;
  let store: S3MultipartStore;
  beforeAll(async () => {
    backend = await s3Backend('budget/');
    server = await startInProcess({ ...backend.options, partSize: PS, partMemory: 1 });
    store = server.tus.datastore as S3MultipartStore;
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  const uploadOnePatch = async (size: number): Promise<void> => {
    const data = randomBytes(size);
    const url = await createUpload(server.url, size);
    const res = await patch(url, 0, data);
    expect(res.status).toBe(204);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  };

  it('stores a PATCH of several parts, one buffer at a time', async () => {
    await uploadOnePatch(3 * PS + 1);
    expect(store.partBudget.held).toBe(0);
  });

  it('stores three such PATCHes sent at once', async () => {
    await Promise.all([3 * PS + 7, 2 * PS, 2 * PS + 1].map(uploadOnePatch));
    expect(store.partBudget.held).toBe(0);
    expect(store.partBudget.waiting).toBe(0);
  });
});
