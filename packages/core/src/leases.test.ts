import { describe, expect, it } from 'vitest';
import { Leases } from './leases.js';

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
});
