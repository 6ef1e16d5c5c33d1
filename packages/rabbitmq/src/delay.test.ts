import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  delayLevels,
  delayRoute,
  isDelayHeader,
  maxDelayMs,
  parseTarget,
  TARGET_HEADER,
  targetValue,
} from './delay.js';

describe('delay decomposition', () => {
  it('writes a delay as its set bits, highest first', () => {
    expect(delayLevels(1, 30)).toEqual([0]);
    expect(delayLevels(13, 30)).toEqual([3, 2, 0]);
    expect(delayLevels(1_500, 30)).toEqual([10, 8, 7, 6, 4, 3, 2]);
    expect(delayLevels(maxDelayMs(4), 4)).toEqual([3, 2, 1, 0]);
  });

  it('the levels of any delay sum back to it, each used at most once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: maxDelayMs(30) }), (delay) => {
        const levels = delayLevels(delay, 30);
        expect(levels.reduce((sum, k) => sum + 2 ** k, 0)).toBe(delay);
        expect(new Set(levels).size).toBe(levels.length);
        expect(levels.every((k) => k >= 0 && k < 30)).toBe(true);
      }),
    );
  });

  it('refuses delays it cannot express', () => {
    expect(() => delayLevels(0, 30)).toThrow(RangeError);
    expect(() => delayLevels(2 ** 30, 30)).toThrow(RangeError);
    expect(() => delayLevels(1.5, 30)).toThrow(RangeError);
  });

  it('routes from the highest set level with one header per level below it', () => {
    const route = delayRoute('sy.delay', 5, 30, { exchange: 'orders' }, 'classic');
    expect(route.exchange).toBe('sy.delay.2');
    expect(route.headers).toEqual({
      [TARGET_HEADER]: 'e:orders',
      'switchyard-delay-2': '1',
      'switchyard-delay-1': '0',
      'switchyard-delay-0': '1',
    });
    expect(delayRoute('p', 2, 30, { queue: 'orders.g' }, 'quorum').headers[TARGET_HEADER]).toBe('q:orders.g');
    expect(delayRoute('sy.delay', 5, 30, { exchange: 'orders' }, 'quorum').exchange).toBe('sy.delay.q2');
    expect(Object.keys(route.headers).every(isDelayHeader)).toBe(true);
    expect(isDelayHeader('x-tenant')).toBe(false);
  });

  it('reads back the target a header names, and nothing from a header that names none', () => {
    for (const target of [{ exchange: 'orders' }, { exchange: '' }, { queue: 'orders.g' }]) {
      expect(parseTarget(targetValue(target))).toEqual(target);
      expect(parseTarget(Buffer.from(targetValue(target)))).toEqual(target);
    }
    for (const bad of [undefined, 42, 'orders', 'q:', 'x:orders']) expect(parseTarget(bad)).toBeUndefined();
  });
});
