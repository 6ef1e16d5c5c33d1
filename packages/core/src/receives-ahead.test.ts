// ReceivesAhead with a receive function the test answers by hand: receives go out ahead only on a
// backlog, never past the room given or the receives allowed, land in arrival order (a receive's
// own array when nothing waits), a failure is reported only when nothing came, and waits end when
// a receive lands, their time passes or their signal aborts.

import { describe, expect, it } from 'vitest';
import { ReceivesAhead, type ReceivesAheadOptions } from './receives-ahead.js';

interface Asked {
  readonly count: number;
  readonly signal: AbortSignal | undefined;
  answer(got: number[]): void;
  fail(error: Error): void;
}

let next = 0;
const messages = (n: number) => Array.from({ length: n }, () => ++next);

function ahead(options: Partial<ReceivesAheadOptions<number>> = {}) {
  const asked: Asked[] = [];
  const receives = new ReceivesAhead<number>({
    maxReceives: 4,
    perRefill: 4,
    perReceive: 16,
    receive: (count, signal) =>
      new Promise<number[]>((answer, fail) => {
        asked.push({ count, signal, answer, fail });
      }),
    backlog: (was, got, count) => was && got === count,
    ...options,
  });
  return { receives, asked };
}

/** Lets the receives' then-callbacks run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('ReceivesAhead', () => {
  it('sends receives only on a backlog, within the room, the receives allowed and per refill', () => {
    const { receives, asked } = ahead();
    receives.refill(64);
    expect(asked).toEqual([]);
    receives.backlog = true;
    receives.refill(40);
    expect(asked.map((a) => a.count)).toEqual([16, 16, 8]);
    expect(receives.requested).toBe(40);
    expect(receives.receives).toBe(3);
    // The room is counted against what is on the wire: nothing more for the same room.
    receives.refill(40);
    expect(asked.length).toBe(3);
    receives.refill(200);
    expect(asked.map((a) => a.count)).toEqual([16, 16, 8, 16]);
    const { receives: one, asked: oneAsked } = ahead({ maxReceives: 2, perRefill: 1, perReceive: 32 });
    one.backlog = true;
    one.refill(128);
    one.refill(128);
    one.refill(128);
    expect(oneAsked.map((a) => a.count)).toEqual([32, 32]);
  });

  it('counts the buffered messages against the room, and sends nothing after close or abort', async () => {
    const { receives, asked } = ahead();
    receives.backlog = true;
    receives.send(16);
    asked[0]!.answer(messages(16));
    await settled();
    expect(receives.buffered).toBe(16);
    receives.refill(20);
    expect(asked.map((a) => a.count)).toEqual([16, 4]);
    const controller = new AbortController();
    controller.abort();
    receives.refill(100, controller.signal);
    expect(asked.length).toBe(2);
    receives.close();
    receives.refill(100);
    expect(asked.length).toBe(2);
  });

  it('hands on in arrival order: the receive’s own array when nothing waits, a part when more than max', async () => {
    const { receives, asked } = ahead();
    receives.send(16);
    receives.send(16);
    expect(receives.take(16)).toBeUndefined();
    const first = messages(3);
    const firstValues = [...first];
    asked[1]!.answer(first);
    await settled();
    const second = messages(2);
    asked[0]!.answer(second);
    await settled();
    expect(receives.requested).toBe(0);
    expect(receives.receives).toBe(0);
    const out = receives.take(4);
    expect(out).toEqual([...firstValues, second[0]]);
    expect(receives.buffered).toBe(1);
    expect(receives.take(4)).toEqual([second[1]]);
    receives.send(16);
    const third = messages(5);
    asked[2]!.answer(third);
    await settled();
    expect(receives.take(16)).toBe(third);
    expect(receives.buffered).toBe(0);
  });

  it('asks the backlog rule at each landing, with what came against what was asked', async () => {
    const seen: Array<[boolean, number, number]> = [];
    const { receives, asked } = ahead({
      backlog: (was, got, count) => {
        seen.push([was, got, count]);
        return got > 0;
      },
    });
    receives.send(16);
    asked[0]!.answer(messages(16));
    await settled();
    expect(receives.backlog).toBe(true);
    receives.send(8);
    asked[1]!.answer([]);
    await settled();
    expect(receives.backlog).toBe(false);
    expect(seen).toEqual([
      [false, 16, 16],
      [true, 0, 8],
    ]);
  });

  it('admits what the admit option lets through', async () => {
    const { receives, asked } = ahead({ admit: (got) => got.filter((n) => n % 2 === 0) });
    receives.send(4);
    asked[0]!.answer([1, 2, 3, 4]);
    await settled();
    expect(receives.take(4)).toEqual([2, 4]);
    receives.put(7);
    expect(receives.take(4)).toEqual([7]);
  });

  it('keeps the first failure for a call that finds nothing, ends the backlog, and clears it when messages come', async () => {
    const { receives, asked } = ahead();
    receives.backlog = true;
    receives.refill(48);
    asked[0]!.fail(new Error('first'));
    asked[1]!.fail(new Error('second'));
    await settled();
    expect(receives.backlog).toBe(false);
    expect(receives.failed).toBe(true);
    expect((receives.takeFailure() as Error).message).toBe('first');
    expect(receives.takeFailure()).toBeUndefined();
    asked[2]!.fail(new Error('third'));
    await settled();
    receives.send(16);
    asked[3]!.answer(messages(1));
    await settled();
    expect(receives.take(16)?.length).toBe(1);
    expect(receives.failed).toBe(false);
    expect(receives.requested).toBe(0);
  });

  it('passes the signal it was given to the receives it sends', () => {
    const { receives, asked } = ahead();
    const signal = new AbortController().signal;
    receives.backlog = true;
    receives.refill(16, signal);
    expect(asked[0]!.signal).toBe(signal);
  });

  it('wakes a waiting call when a receive lands, and every call waiting', async () => {
    const { receives, asked } = ahead();
    receives.send(16);
    const one = receives.arrival(Number.POSITIVE_INFINITY);
    const two = receives.arrival(60_000);
    asked[0]!.answer(messages(2));
    expect(await one).toBe(true);
    expect(await two).toBe(true);
    const woken = receives.arrival(Number.POSITIVE_INFINITY);
    receives.wake();
    expect(await woken).toBe(true);
  });

  it('ends a wait when its time passes, on the next turn for −1, or when its signal aborts', async () => {
    const { receives, asked } = ahead();
    receives.send(16);
    expect(await receives.arrival(-1)).toBe(false);
    expect(await receives.arrival(1)).toBe(false);
    const controller = new AbortController();
    const aborted = receives.arrival(Number.POSITIVE_INFINITY, controller.signal);
    controller.abort();
    expect(await aborted).toBe(false);
    expect(await receives.arrival(60_000, controller.signal)).toBe(false);
    // A wait that gave up does not stay in the way: the next one is woken by the landing.
    const later = receives.arrival(Number.POSITIVE_INFINITY);
    asked[0]!.answer(messages(1));
    expect(await later).toBe(true);
  });

  it('a wait that gives up leaves one that began before it waiting', async () => {
    const { receives, asked } = ahead();
    receives.send(16);
    const first = receives.arrival(Number.POSITIVE_INFINITY);
    expect(await receives.arrival(-1)).toBe(false);
    asked[0]!.answer([]);
    expect(await first).toBe(true);
  });

  it('quiet() resolves when every receive came back, or when its time is up', async () => {
    const { receives, asked } = ahead();
    await receives.quiet(60_000);
    receives.send(16);
    receives.send(16);
    let quiet = false;
    const done = receives.quiet(60_000).then(() => {
      quiet = true;
    });
    asked[0]!.answer(messages(1));
    await settled();
    expect(quiet).toBe(false);
    asked[1]!.answer(messages(1));
    await done;
    expect(receives.drain().length).toBe(2);
    expect(receives.buffered).toBe(0);
    receives.send(16);
    await receives.quiet(1);
    expect(receives.receives).toBe(1);
  });
});
