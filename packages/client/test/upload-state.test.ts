import { PauseGate } from '../src/pause-gate.js';
import { ProgressCounters } from '../src/progress.js';
import { ResumeRecord } from '../src/resume-record.js';
import { blobSource } from '../src/sources/blob.js';
import { MemoryStore } from '../src/stores/memory.js';

describe('PauseGate', () => {
  test('pause aborts the signal and holds the checkpoint until resume', async () => {
    const g = new PauseGate();
    const first = g.signal;
    g.pause();
    expect(first.aborted).toBe(true);
    let passed = false;
    const cp = g.checkpoint().then(() => {
      passed = true;
    });
    await Promise.resolve();
    expect(passed).toBe(false);
    expect(g.resume()).toBe(true);
    await cp;
    expect(passed).toBe(true);
    expect(g.signal.aborted).toBe(false);
    expect(g.resume()).toBe(false);
  });

  test('abort releases a paused checkpoint with an aborted error, once', async () => {
    const g = new PauseGate();
    g.pause();
    const cp = g.checkpoint();
    expect(g.abort()).toBe(true);
    expect(g.abort()).toBe(false);
    await expect(cp).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('ProgressCounters', () => {
  test('monotonic; an ack counts as sent', () => {
    const c = new ProgressCounters();
    expect(c.send(5)).toBe(true);
    expect(c.send(3)).toBe(false);
    expect(c.ack(8)).toBe(true);
    expect([c.sent, c.acked]).toEqual([8, 8]);
    expect(c.ack(8)).toBe(false);
    expect(c.aggregate(4, 4)).toEqual({ moved: false, ackMoved: false });
    expect(c.aggregate(10, 8)).toEqual({ moved: true, ackMoved: false });
    expect(c.aggregate(10, 9)).toEqual({ moved: true, ackMoved: true });
  });
});

describe('ResumeRecord', () => {
  const endpoint = 'http://127.0.0.1/files';
  const source = () => blobSource(new File([new Uint8Array(10)], 'a.bin', { lastModified: 1 }));
  const fields = { endpoint, size: 10, metadata: {}, createdAt: new Date(0).toISOString() };

  test('save, load by fingerprint, finished forgets unless told to keep', async () => {
    const store = new MemoryStore();
    const a = new ResumeRecord({ endpoint, store });
    expect(await a.load(source(), true)).toBeUndefined();
    expect(a.fingerprint).not.toBeNull();
    await a.save('http://127.0.0.1/files/1', fields);
    const b = new ResumeRecord({ endpoint, store });
    expect((await b.load(source(), true))?.uploadUrl).toBe('http://127.0.0.1/files/1');
    expect(await new ResumeRecord({ endpoint, store, resume: false }).load(source(), true)).toBe(
      undefined,
    );
    const keep = new ResumeRecord({ endpoint, store, removeFromStoreOnSuccess: false });
    await keep.load(source(), false);
    await keep.finished();
    expect(await store.list()).toHaveLength(1);
    await b.finished();
    expect(await store.list()).toHaveLength(0);
  });

  test('without a store nothing is fingerprinted or written', async () => {
    const r = new ResumeRecord({ endpoint });
    expect(await r.load(source(), true)).toBeUndefined();
    expect(r.fingerprint).toBeNull();
    expect(r.entry(fields)).toBeNull();
    await r.save('http://x', fields);
    await r.forget();
  });
});
