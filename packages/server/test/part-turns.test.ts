// Admission to part memory (s3/memory/turns.ts) and one request's turn (s3/patch/
// admission.ts): who may take slabs, in which order, when a turn goes back. Pure logic; the
// deadline and the silence watch run on Jest's fake timers, no duration is asserted.
import { jest } from '@jest/globals';
import { TusError } from '../src/errors.js';
import { BufferLease } from '../src/s3/memory/buffer-pool.js';
import { PartBudget } from '../src/s3/memory/part-budget.js';
import { PartTurns, type Turn } from '../src/s3/memory/turns.js';
import { RequestTurn, TURN_IDLE, TURN_SHARE } from '../src/s3/patch/admission.js';

const flush = () => new Promise((r) => setImmediate(r));

/** Collects grants in the order they came. */
function entering(turns: PartTurns, bytes: number, log: string[], name: string) {
  const p = turns.enter(bytes).then((t) => {
    log.push(name);
    return t;
  });
  p.catch(() => {});
  return p;
}

describe('PartTurns', () => {
  it('grants at once while the reserved bytes fit, then in arrival order', async () => {
    const turns = new PartTurns(100, 0);
    const a = await turns.enter(40);
    const b = await turns.enter(40);
    expect(turns.reserved).toBe(80);
    const log: string[] = [];
    const c = entering(turns, 40, log, 'c');
    const d = entering(turns, 10, log, 'd');
    await flush();
    // d would fit, but c came first: nobody is overtaken.
    expect(log).toEqual([]);
    expect(turns.waiting).toBe(2);
    a.release();
    await flush();
    expect(log).toEqual(['c', 'd']);
    expect(turns.reserved).toBe(90);
    b.release();
    (await c).release();
    (await d).release();
    expect(turns.reserved).toBe(0);
  });

  it('counts a release once', async () => {
    const turns = new PartTurns(10, 0);
    const a = await turns.enter(10);
    const log: string[] = [];
    const b = entering(turns, 10, log, 'b');
    const c = entering(turns, 10, log, 'c');
    a.release();
    a.release();
    await flush();
    expect(log).toEqual(['b']);
    expect(turns.reserved).toBe(10);
    (await b).release();
    await c;
  });

  it('caps a turn at the limit, granted alone', async () => {
    const turns = new PartTurns(10, 0);
    const big = await turns.enter(1000);
    expect(big.bytes).toBe(10);
    const log: string[] = [];
    const small = entering(turns, 1, log, 'small');
    await flush();
    expect(log).toEqual([]);
    big.release();
    expect((await small).bytes).toBe(1);
  });

  describe('deadline', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    it('fails every waiter with 503 and Retry-After when no turn is granted within the wait', async () => {
      const turns = new PartTurns(10, 2000);
      await turns.enter(10);
      const waiters = [turns.enter(5), turns.enter(5)].map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      jest.advanceTimersByTime(2000);
      for (const err of await Promise.all(waiters)) {
        expect(err).toBeInstanceOf(TusError);
        expect((err as TusError).status_code).toBe(503);
        expect((err as TusError).retryAfter).toBe(2);
      }
      expect(turns.waiting).toBe(0);
    });

    it('is no stall while holders take and give back slabs', async () => {
      const turns = new PartTurns(10, 2000);
      await turns.enter(10);
      let failed = 0;
      turns.enter(10).catch(() => failed++);
      for (let i = 0; i < 4; i++) {
        jest.advanceTimersByTime(1500);
        turns.moved();
      }
      await flush();
      expect(failed).toBe(0);
      jest.advanceTimersByTime(2000);
      await flush();
      expect(failed).toBe(1);
    });

    it('starts the deadline again whenever the queue moves', async () => {
      const turns = new PartTurns(10, 2000);
      const first = await turns.enter(10);
      let failed = 0;
      const granted: Turn[] = [];
      for (let i = 0; i < 2; i++) {
        turns.enter(10).then(
          (t) => granted.push(t),
          () => failed++,
        );
      }
      jest.advanceTimersByTime(1500);
      first.release();
      await flush();
      expect(granted.length).toBe(1);
      jest.advanceTimersByTime(1500);
      await flush();
      expect(failed).toBe(0);
      expect(turns.waiting).toBe(1);
      jest.advanceTimersByTime(500);
      await flush();
      expect(failed).toBe(1);
    });
  });
});

/** A body that records holds and answers interrupts as a waiting reader would. */
function fakeBody(waiting: () => boolean) {
  const calls = { holds: 0, interrupts: 0 };
  return {
    calls,
    hold: () => {
      calls.holds++;
    },
    interrupt: () => {
      if (!waiting()) return false;
      calls.interrupts++;
      return true;
    },
  };
}

describe('RequestTurn', () => {
  const SLAB = 16;
  const setup = (slabs: number, leaseSlabs: number) => {
    const budget = new PartBudget({ limit: slabs * SLAB, slabSize: SLAB, wait: 0 });
    return { budget, lease: new BufferLease(budget, leaseSlabs * SLAB) };
  };

  it('leaves the body unread while it waits, and reserves what a short body can take', async () => {
    const { budget, lease } = setup(8, 4);
    const body = fakeBody(() => false);
    const turn = new RequestTurn(budget.turns, lease, body);
    await turn.take(SLAB + 1);
    expect(body.calls.holds).toBe(1);
    expect(turn.held).toBe(true);
    // Two slabs of bytes, one more for a part boundary inside them; never more than the lease.
    expect(budget.turns.reserved).toBe(3 * SLAB);
    turn.drop();
    const long = new RequestTurn(budget.turns, lease, body);
    await long.take(100 * SLAB);
    expect(budget.turns.reserved).toBe(4 * SLAB);
    long.drop();
  });

  it('gives its turn back only once its lease holds no slab', async () => {
    const { budget, lease } = setup(4, 4);
    const turn = new RequestTurn(budget.turns, lease, undefined);
    await turn.take(4 * SLAB);
    const slab = await lease.take();
    const next = new RequestTurn(budget.turns, new BufferLease(budget, 4 * SLAB), undefined);
    let granted = false;
    const entering = next.take(4 * SLAB).then(() => {
      granted = true;
    });
    expect(turn.othersWait).toBe(true);
    turn.drop();
    await flush();
    // The slab is still on its way to S3: the turn covers it.
    expect(granted).toBe(false);
    lease.give(slab);
    await entering;
    expect(granted).toBe(true);
    expect(budget.turns.reserved).toBe(4 * SLAB);
  });

  describe('silence', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    it('marks a holder silent only while others wait and its body waits for bytes', async () => {
      const { budget, lease } = setup(4, 4);
      let reading = true;
      const body = fakeBody(() => reading);
      const turn = new RequestTurn(budget.turns, lease, body);
      await turn.take(4 * SLAB);
      // Nobody waits: a quiet holder keeps its turn.
      jest.advanceTimersByTime(3 * TURN_IDLE);
      expect(turn.silent).toBe(false);
      const other = new RequestTurn(budget.turns, new BufferLease(budget, 4 * SLAB), undefined);
      void other.take(4 * SLAB).catch(() => {});
      // Bytes keep coming: not silent.
      for (let i = 0; i < 6; i++) {
        turn.noteChunk();
        jest.advanceTimersByTime(TURN_IDLE / 2);
      }
      expect(turn.silent).toBe(false);
      // Busy with what arrived (not waiting for the client): not silent either.
      reading = false;
      jest.advanceTimersByTime(2 * TURN_IDLE);
      expect(turn.silent).toBe(false);
      reading = true;
      jest.advanceTimersByTime(2 * TURN_IDLE);
      expect(turn.silent).toBe(true);
      expect(body.calls.interrupts).toBe(1);
      turn.drop();
      await flush();
      expect(budget.turns.waiting).toBe(0);
    });

    it('a holder that keeps sending gives back TURN_SHARE after others began to wait', async () => {
      const { budget, lease } = setup(4, 4);
      const body = fakeBody(() => true);
      const turn = new RequestTurn(budget.turns, lease, body);
      await turn.take(4 * SLAB);
      const steady = (ms: number) => {
        for (let t = 0; t < ms; t += TURN_IDLE / 4) {
          turn.noteChunk();
          jest.advanceTimersByTime(TURN_IDLE / 4);
        }
      };
      // Alone, it keeps its turn however long it sends.
      steady(3 * TURN_SHARE);
      expect(turn.silent).toBe(false);
      const other = new RequestTurn(budget.turns, new BufferLease(budget, 4 * SLAB), undefined);
      let granted = false;
      void other.take(4 * SLAB).then(() => {
        granted = true;
      });
      steady(TURN_SHARE - TURN_IDLE);
      expect(turn.silent).toBe(false);
      steady(2 * TURN_IDLE);
      expect(turn.silent).toBe(true);
      expect(body.calls.interrupts).toBe(1);
      turn.drop();
      await flush();
      expect(granted).toBe(true);
      // Given back and taken again, it queues behind the other, with a new share.
      const again = turn.take(4 * SLAB);
      await flush();
      expect(turn.held).toBe(false);
      other.drop();
      await again;
      expect(turn.held).toBe(true);
      expect(turn.silent).toBe(false);
    });
  });
});
