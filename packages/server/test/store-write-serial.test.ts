// One write per upload at a time: @tus/server frees a cut PATCH's lock before the store's
// write() returns, so a retry's write() can arrive while the cut one still stages its tail
// (seen against RGW: the unlock came 20 ms before the write ended). The retry must wait and
// then see the offset the first one reached.
import { ERRORS } from '@tus/utils';
import { createUpload, fakeS3, MiB, newStore, patch, randomData } from './helpers/store-harness.js';

describe('S3MultipartStore.write, two at once for one upload', () => {
  it('runs the second after the first, which it then sees', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await createUpload(store, 'u', 12 * MiB);
    const data = randomData(12 * MiB);
    // Hold the first staged segment's PutObject until released.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = false;
    let reached!: () => void;
    const arrived = new Promise<void>((r) => {
      reached = r;
    });
    const send = s3.client.send.bind(s3.client);
    const puts: string[] = [];
    (s3.client as { send: unknown }).send = async (
      command: { input: { Key?: string } },
      o?: never,
    ) => {
      const key = command.input.Key ?? '';
      if (command.constructor.name === 'PutObjectCommand' && key.includes('.seg.')) {
        puts.push(key);
        if (!held) {
          held = true;
          reached();
          await gate;
        }
      }
      return send(command as never, o);
    };
    const first = patch(store, 'u', data, 0, 3 * MiB);
    await arrived;
    let secondDone = false;
    const second = patch(store, 'u', data, 0, MiB).finally(() => {
      secondDone = true;
    });
    second.catch(() => {});
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // While the first still stages, the second has neither finished nor staged anything.
    expect(secondDone).toBe(false);
    expect(puts).toHaveLength(1);
    release();
    expect(await first).toBe(3 * MiB);
    await expect(second).rejects.toBe(ERRORS.INVALID_OFFSET);
    expect(puts).toHaveLength(1);
    await store.drained();
  });

  it('lets writes of different uploads run side by side', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await createUpload(store, 'a', 4 * MiB);
    await createUpload(store, 'b', 4 * MiB);
    const data = randomData(4 * MiB);
    const [a, b] = await Promise.all([
      patch(store, 'a', data, 0, MiB),
      patch(store, 'b', data, 0, MiB),
    ]);
    expect([a, b]).toEqual([MiB, MiB]);
  });
});
