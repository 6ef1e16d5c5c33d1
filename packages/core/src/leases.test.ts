import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LeaseSlot, Leases } from './leases.js';

/** A key carrying its own lease slot, as a driver's delivery handle does. */
interface Handle extends LeaseSlot {
  readonly name: string;
}

/** A promise and its resolve (Promise.withResolvers needs Node 22). */
function settable(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const handles = (...names: string[]): Handle[] => names.map((name) => ({ name, lease: undefined }));

describe('Leases', () => {
  it('calls back once when a lease runs out, after ending it, so a late settle sees it gone', async () => {
    let late: boolean | undefined;
    const expired = new Promise<string>((resolve) => {
      const leases: Leases<string> = new Leases((key) => {
        late = leases.end(key);
        resolve(key);
      });
      leases.lease('a', 1);
    });
    expect(await expired).toBe('a');
    expect(late).toBe(false);
  });

  it('end() stops the timer and reports whether the lease was live; extend() only extends live ones', async () => {
    const fired: string[] = [];
    const leases = new Leases<string>((key) => fired.push(key));
    leases.lease('a', 60_000);
    expect(leases.extend('a', 60_000)).toBe(true);
    expect(leases.end('a')).toBe(true);
    expect(leases.end('a')).toBe(false);
    expect(leases.extend('a', 1)).toBe(false);
    expect(leases.size).toBe(0);
    // A restarted lease replaces the old timer: only the new one can fire.
    const done = new Promise<void>((resolve) => {
      const again = new Leases<string>((key) => {
        fired.push(key);
        resolve();
      });
      again.lease('b', 60_000);
      again.lease('b', 1);
    });
    await done;
    expect(fired).toEqual(['b']);
  });

  it('leases of different lengths run out in deadline order; ended and restarted ones fire once, at their own deadline', async () => {
    const fired: string[] = [];
    let leases!: Leases<string>;
    const done = new Promise<void>((resolve) => {
      leases = new Leases<string>((key) => {
        fired.push(key);
        if (fired.length === 3) resolve();
      });
    });
    leases.lease('long', 400);
    leases.lease('short', 5);
    leases.lease('gone', 5);
    leases.lease('moved', 5);
    leases.end('gone');
    expect(leases.extend('moved', 20)).toBe(true);
    // Many leases ended out of order: their stale pairs are dropped, none fires.
    for (let i = 0; i < 500; i++) leases.lease(`x${i}`, 30);
    for (let i = 499; i >= 0; i--) expect(leases.end(`x${i}`)).toBe(true);
    expect(leases.size).toBe(3);
    await done;
    expect(fired).toEqual(['short', 'moved', 'long']);
    expect(leases.size).toBe(0);
  });

  it('with a slot per key, the lease lives on the key: a batch leased at once runs out for exactly its unsettled keys, once each', async () => {
    const [a, b, c, d, e] = handles('a', 'b', 'c', 'd', 'e') as [Handle, Handle, Handle, Handle, Handle];
    const fired: string[] = [];
    let leases!: Leases<Handle>;
    const done = new Promise<void>((resolve) => {
      leases = new Leases<Handle>(
        (key) => {
          // Over before the callback: a settle racing the expiry sees it gone.
          expect(key.lease).toBeUndefined();
          expect(leases.end(key)).toBe(false);
          fired.push(key.name);
          if (fired.length === 2) resolve();
        },
        (key) => key,
      );
    });
    leases.leaseAll([a, b, c, d, e], 1);
    expect(a.lease).toBeDefined();
    expect(leases.size).toBe(5);
    expect(leases.end(b)).toBe(true);
    expect(b.lease).toBeUndefined();
    expect(leases.end(d)).toBe(true);
    expect(leases.extend(e, 60_000)).toBe(true);
    expect(leases.extend(b, 60_000)).toBe(false);
    expect(leases.size).toBe(3);
    await done;
    expect(fired).toEqual(['a', 'c']);
    expect(leases.size).toBe(1);
    expect(leases.has(e)).toBe(true);
    expect([a, b, c, d].map((h) => h.lease)).toEqual([undefined, undefined, undefined, undefined]);
    leases.clear();
    expect(e.lease).toBeUndefined();
  });

  it('a callback may end or restart the keys that run out after it in the same batch; clear() in a callback empties every slot', async () => {
    const [a, b, c, d] = handles('a', 'b', 'c', 'd') as [Handle, Handle, Handle, Handle];
    const fired: string[] = [];
    const { promise: done, resolve } = settable();
    const leases: Leases<Handle> = new Leases<Handle>(
      (key) => {
        fired.push(key.name);
        if (key === a) {
          expect(leases.end(b)).toBe(true);
          expect(leases.extend(c, 60_000)).toBe(true);
        }
        if (key === d) resolve();
      },
      (key) => key,
    );
    leases.leaseAll([a, b], 1);
    leases.lease(c, 1);
    // d runs out after a, b and c: once it has, they had their turn.
    leases.lease(d, 5);
    await done;
    expect(fired).toEqual(['a', 'd']);
    expect(leases.has(c)).toBe(true);

    const [x, y, z, last] = handles('x', 'y', 'z', 'last') as [Handle, Handle, Handle, Handle];
    const cleared: string[] = [];
    const { promise: over, resolve: overResolve } = settable();
    const again: Leases<Handle> = new Leases<Handle>(
      (key) => {
        cleared.push(key.name);
        if (key === x) again.clear();
        if (key === last) overResolve();
      },
      (key) => key,
    );
    again.leaseAll([x, y, z], 1);
    again.lease(handles('later')[0]!, 60_000);
    expect(again.size).toBe(4);
    await new Promise<void>((resolve) => {
      const watch = new Leases<string>(() => resolve());
      watch.lease('after', 5);
    });
    expect(cleared).toEqual(['x']);
    expect(again.size).toBe(0);
    expect([x, y, z].map((h) => h.lease)).toEqual([undefined, undefined, undefined]);
    expect(again.end(y)).toBe(false);
    // Still usable after a clear.
    again.lease(last, 1);
    await over;
    expect(cleared).toEqual(['x', 'last']);
  });

  it('leaseAll into a new bucket moves keys leased elsewhere, counts a key listed twice once, and each runs out once', async () => {
    const fired: string[] = [];
    const [a, b, c, d] = handles('a', 'b', 'c', 'd') as [Handle, Handle, Handle, Handle];
    const { promise: over, resolve } = settable();
    const leases = new Leases<Handle>(
      (key) => {
        fired.push(key.name);
        if (fired.length === 4) resolve();
      },
      (key) => key,
    );
    // a and b in a long bucket first; the leaseAll moves them out of it, which empties it.
    leases.leaseAll([a, b], 60_000);
    leases.leaseAll([c, a, b, c, d], 1);
    expect(leases.size).toBe(4);
    await over;
    expect(fired).toEqual(['c', 'a', 'b', 'd']);
    expect(leases.size).toBe(0);
    expect([a, b, c, d].map((h) => h.lease)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('a lease never runs out before its deadline (deadlines are rounded up to the millisecond, not down)', async () => {
    const started = performance.now();
    const ranOut = await new Promise<number>((resolve) => {
      const leases = new Leases<string>(() => resolve(performance.now()));
      leases.lease('a', 3);
    });
    expect(ranOut - started).toBeGreaterThanOrEqual(3);
  });

  it('one key held while thousands of later leases end out of order runs out alone, with and without slots', async () => {
    for (const slotted of [false, true]) {
      const fired: string[] = [];
      const { promise: done, resolve } = settable();
      const leases = new Leases<Handle>(
        (key) => {
          fired.push(key.name);
          resolve();
        },
        slotted ? (key) => key : undefined,
      );
      const held = handles('held')[0]!;
      leases.lease(held, 30);
      for (let batch = 0; batch < 200; batch++) {
        const keys = handles(...Array.from({ length: 32 }, (_, i) => `${batch}.${i}`));
        leases.leaseAll(keys, 30);
        // Every other key now, the rest in reverse: buckets empty out of order.
        for (let i = 0; i < keys.length; i += 2) expect(leases.end(keys[i]!)).toBe(true);
        for (let i = keys.length - 1; i > 0; i -= 2) expect(leases.end(keys[i]!)).toBe(true);
        if (slotted) expect(keys.every((k) => k.lease === undefined)).toBe(true);
      }
      expect(leases.size).toBe(1);
      await done;
      expect(fired).toEqual(['held']);
      expect(leases.size).toBe(0);
    }
  });

  describe('on a fake clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('a lease restarted alone into a later bucket of its length still runs out', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      for (const slotted of [false, true]) {
        const fired: string[] = [];
        const leases = new Leases<Handle>((key) => fired.push(key.name), slotted ? (key) => key : undefined);
        const [a] = handles('a') as [Handle];
        leases.lease(a, 5);
        vi.advanceTimersByTime(2);
        // Its first bucket empties and goes; the second, made for it, must stay.
        expect(leases.extend(a, 5)).toBe(true);
        vi.advanceTimersByTime(4);
        expect(fired).toEqual([]);
        vi.advanceTimersByTime(1);
        expect(fired).toEqual(['a']);
        expect(leases.size).toBe(0);
      }
    });

    it('matches a plain model (a deadline per key) under random leases, ends, restarts and time', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      for (const slotted of [false, true])
        for (let seed = 1; seed <= 40; seed++) {
          let state = seed;
          const random = () => {
            state = (state * 1103515245 + 12345) & 0x7fffffff;
            return state / 0x7fffffff;
          };
          const keys = handles(...Array.from({ length: 30 }, (_, i) => `k${i}`));
          // The model: each live key's deadline.
          const due = new Map<Handle, { at: number }>();
          const fired: string[] = [];
          const leases = new Leases<Handle>(
            (key) => fired.push(key.name),
            slotted ? (key) => key : undefined,
          );
          const ms = 10;
          for (let step = 0; step < 300; step++) {
            const op = random();
            const key = keys[Math.floor(random() * keys.length)]!;
            if (op < 0.3) {
              leases.lease(key, ms);
              due.set(key, { at: performance.now() + ms });
            } else if (op < 0.4) {
              const batch = keys.filter(() => random() < 0.25);
              leases.leaseAll(batch, ms);
              for (const k of batch) due.set(k, { at: performance.now() + ms });
            } else if (op < 0.55) {
              expect(leases.end(key)).toBe(due.delete(key));
            } else if (op < 0.65) {
              const live = due.has(key);
              expect(leases.extend(key, ms)).toBe(live);
              if (live) due.set(key, { at: performance.now() + ms });
            } else {
              const until = performance.now() + Math.floor(random() * 6);
              const expected = new Map(
                [...due].filter(([, d]) => d.at <= until).map(([k, d]) => [k.name, d.at]),
              );
              fired.length = 0;
              vi.advanceTimersByTime(until - performance.now());
              for (const [k, d] of [...due]) if (d.at <= until) due.delete(k);
              // Exactly the keys due, in deadline order (keys due in the same millisecond in any).
              expect([...fired].sort()).toEqual([...expected.keys()].sort());
              const ats = fired.map((name) => expected.get(name)!);
              expect(ats).toEqual([...ats].sort((x, y) => x - y));
            }
            expect(leases.size).toBe(due.size);
            expect(leases.has(key)).toBe(due.has(key));
          }
        }
    });
  });
});
