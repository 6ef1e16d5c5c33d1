import { describe, expect, it } from 'vitest';
import { gc, turbofanned } from '../../core/test-kit/v8-natives.js';
import { Limiter } from './limiter.js';

// V8 keeps an arrow's optimized code only while an arrow of that literal lives: a reaction made per
// task was compiled again after any GC that fell when no task ran (docs/bench-profiles.md §28.3).
// The limiter's per-task reactions are methods of one class, bound to the task, instead.

/** %PrepareFunctionForOptimization / %OptimizeFunctionOnNextCall (natives enabled by v8-natives). */
const prepare = new Function('f', '%PrepareFunctionForOptimization(f);') as (f: unknown) => void;
const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f);') as (f: unknown) => void;

/** A resolved promise that records the reactions the limiter attaches to it. */
class Watched<T> extends Promise<T> {
  static seen: unknown[][] = [];
  static override get [Symbol.species]() {
    return Promise;
  }
  // biome-ignore lint/suspicious/noThenProperty: a promise subclass, watching what the limiter attaches
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    Watched.seen.push([onFulfilled, onRejected]);
    return super.then(onFulfilled, onRejected);
  }
}

/** One group of `count` tasks through a fresh limiter, every other one failing. */
async function burst(count: number): Promise<Array<number | Error>> {
  const outcomes = new Array<number | Error>(count);
  await new Limiter(2).settleEach(
    count,
    (i) => (i % 2 === 0 ? Promise.resolve(i) : Promise.reject(new Error(`task ${i}`))),
    outcomes,
  );
  return outcomes;
}

describe('Limiter reactions', () => {
  it('gives every task the same two functions, bound to the task, not a closure made per task', async () => {
    Watched.seen = [];
    for (const limiter of [new Limiter(1), new Limiter(3)])
      await limiter.each(2, (i) => Watched.resolve(i) as Promise<unknown> as Promise<void>);
    const names = Watched.seen.map(([f, r]) => [(f as () => void).name, (r as () => void).name]);
    expect(names).toEqual(Array(4).fill(['bound fulfilled', 'bound rejected']));
    expect(Limiter.reactions.map((f) => f.name)).toEqual(['fulfilled', 'rejected']);
  });

  it('keeps the reactions TurboFan-compiled through full GCs with no task left', async () => {
    const [fulfilled, rejected] = Limiter.reactions;
    prepare(fulfilled);
    prepare(rejected);
    // Feedback from more than a first few tasks: V8 settles a class's instance size (slack
    // tracking) after its first instances, and code made before that is thrown away at it.
    for (let i = 0; i < 5; i++) await burst(8);
    optimizeNext(fulfilled);
    optimizeNext(rejected);
    expect(await burst(4)).toEqual([0, new Error('task 1'), 2, new Error('task 3')]);
    expect(turbofanned(fulfilled as () => unknown)).toBe(true);
    expect(turbofanned(rejected as () => unknown)).toBe(true);
    // No limiter, group or task is alive now: what a burst's end leaves (a phase of the bench, a
    // service between bursts). Maps that optimized code uses live a couple of GCs after their last
    // use: more than that.
    for (let i = 0; i < 6; i++) gc();
    expect(turbofanned(fulfilled as () => unknown)).toBe(true);
    expect(turbofanned(rejected as () => unknown)).toBe(true);
    // And a later burst runs that code, not a recompile of it.
    await burst(4);
    expect(turbofanned(fulfilled as () => unknown)).toBe(true);
  });
});
