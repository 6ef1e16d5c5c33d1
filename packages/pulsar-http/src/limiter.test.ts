import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.js';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const task = () => {
    log.push(name);
    return new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
  };
  return { task, open: () => open(), fail: (error: Error) => fail(error) };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('runs at most max tasks at once and starts the waiting ones first come, first served', async () => {
    const limiter = new Limiter(2);
    const log: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const named = (name: string) => {
      const g = gate(log, name);
      gates.set(name, g);
      return g.task();
    };
    const first = limiter.each(3, (i) => named(`a${i}`));
    const single = limiter.run(() => named('s'));
    const second = limiter.each(2, (i) => named(`b${i}`));
    expect(log).toEqual(['a0', 'a1']);
    gates.get('a1')?.open();
    await settled();
    expect(log).toEqual(['a0', 'a1', 'a2']);
    gates.get('a0')?.open();
    await settled();
    expect(log).toEqual(['a0', 'a1', 'a2', 's']);
    gates.get('a2')?.open();
    await first;
    expect(log).toEqual(['a0', 'a1', 'a2', 's', 'b0']);
    gates.get('s')?.open();
    gates.get('b0')?.open();
    await single;
    await settled();
    expect(log).toEqual(['a0', 'a1', 'a2', 's', 'b0', 'b1']);
    gates.get('b1')?.open();
    await second;
  });

  it('a freed slot goes to the oldest waiter, a later caller waits behind it', async () => {
    const limiter = new Limiter(1);
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    const runs = [limiter.run(a.task), limiter.run(b.task)];
    a.open();
    await runs[0];
    runs.push(limiter.run(c.task));
    expect(log).toEqual(['a', 'b']);
    b.open();
    await runs[1];
    await settled();
    expect(log).toEqual(['a', 'b', 'c']);
    c.open();
    await Promise.all(runs);
  });

  it('returns what the task resolved to, and rejects with its error', async () => {
    const limiter = new Limiter(4);
    await expect(limiter.run(async () => 42)).resolves.toBe(42);
    await expect(limiter.run(async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await expect(
      limiter.run(() => {
        throw new Error('thrown before a promise');
      }),
    ).rejects.toThrow('thrown before a promise');
  });

  it('a group settles after every task finished, with the first failure, and frees every slot', async () => {
    const limiter = new Limiter(2);
    const log: string[] = [];
    const gates = [gate(log, '0'), gate(log, '1'), gate(log, '2')];
    let done = false;
    const group = limiter.each(3, (i) => (gates[i] as ReturnType<typeof gate>).task());
    const outcome = group.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    void outcome.then(() => {
      done = true;
    });
    gates[0]?.fail(new Error('first'));
    await settled();
    gates[1]?.fail(new Error('second'));
    await settled();
    expect(done).toBe(false);
    gates[2]?.open();
    expect(await outcome).toBe('first');
    // Both slots are free again.
    const more: string[] = [];
    const next = [gate(more, 'x'), gate(more, 'y')];
    const after = limiter.each(2, (i) => (next[i] as ReturnType<typeof gate>).task());
    expect(more).toEqual(['x', 'y']);
    next[0]?.open();
    next[1]?.open();
    await after;
  });

  it('settleEach writes each outcome by index, a thrown task as its error, and never rejects', async () => {
    const limiter = new Limiter(1);
    const outcomes = new Array<number | Error>(3);
    const failure = new Error('refused');
    const thrown = new Error('thrown before a promise');
    let running = 0;
    let most = 0;
    await expect(
      limiter.settleEach(
        3,
        async (i) => {
          most = Math.max(most, ++running);
          await settled();
          running--;
          if (i === 1) throw failure;
          if (i === 2) return 20;
          return 0;
        },
        outcomes,
      ),
    ).resolves.toBeUndefined();
    expect(outcomes).toEqual([0, failure, 20]);
    expect(most).toBe(1);
    const one = new Array<number | Error>(1);
    await limiter.settleEach(
      1,
      () => {
        throw thrown;
      },
      one,
    );
    expect(one).toEqual([thrown]);
    // The slot is free again.
    await expect(limiter.run(async () => 'free')).resolves.toBe('free');
  });

  it('an empty group resolves at once', async () => {
    await expect(new Limiter(1).each(0, async () => {})).resolves.toBeUndefined();
  });

  it('tryAcquire takes a free slot only when nobody waits, and release hands it to the oldest waiter', async () => {
    const limiter = new Limiter(1);
    const log: string[] = [];
    expect(limiter.tryAcquire()).toBe(true);
    // Full: nothing taken, and the next task waits.
    expect(limiter.tryAcquire()).toBe(false);
    const waiting = gate(log, 'w');
    const done = limiter.run(waiting.task);
    expect(log).toEqual([]);
    limiter.release();
    expect(log).toEqual(['w']);
    // The slot went to the waiter: still none free until it ends.
    expect(limiter.tryAcquire()).toBe(false);
    waiting.open();
    await done;
    await settled();
    expect(limiter.tryAcquire()).toBe(true);
    limiter.release();
  });
});
