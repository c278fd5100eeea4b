import { PartPipeline } from '../src/s3/parts/pipeline.js';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

describe('PartPipeline', () => {
  it('never runs more than the limit at once', async () => {
    const p = new PartPipeline(2);
    let running = 0;
    let peak = 0;
    const gates = [deferred(), deferred(), deferred()];
    const task = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await gates[i]?.promise;
      running--;
    };
    await p.add(task(0));
    await p.add(task(1));
    const third = p.add(task(2));
    expect(running).toBe(2);
    gates[0]?.resolve();
    await third;
    gates[1]?.resolve();
    gates[2]?.resolve();
    await p.drain();
    expect(peak).toBe(2);
  });
  it('reports the first failure on drain and refuses new work', async () => {
    const p = new PartPipeline(2);
    await p.add(async () => {
      throw new Error('boom');
    });
    await expect(p.drain()).rejects.toThrow('boom');
    await expect(p.add(async () => {})).rejects.toThrow('boom');
  });
});
