import { describe, expect, it } from 'vitest';
import { CMQ_NAME_RULE, checkCmqName, groupQueueName, isCmqName } from './names.js';

describe('CMQ names', () => {
  it('accepts letters first, then letters, digits, - and _, up to 64', () => {
    for (const ok of ['a', 'orders', 'Orders-2026_v1', `a${'b'.repeat(63)}`])
      expect(isCmqName(ok)).toBe(true);
  });

  it('rejects anything else with INVALID_ARGUMENT naming the rule', () => {
    for (const bad of ['', '1orders', '-x', '_x', 'a.b', 'a b', 'ü', `a${'b'.repeat(64)}`, 'a/b']) {
      expect(isCmqName(bad)).toBe(false);
      expect(() => checkCmqName(bad, 'queue')).toThrowError(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining(CMQ_NAME_RULE),
        }),
      );
    }
  });

  it('names a group queue <topic>-<group> when that is valid', () => {
    expect(groupQueueName('orders', 'billing')).toBe('orders-billing');
  });

  it('cleans, shortens and hashes group queue names that would break the rules, without collisions', () => {
    const a = groupQueueName('orders', 'billing.eu');
    const b = groupQueueName('orders', 'billing/eu');
    expect(isCmqName(a)).toBe(true);
    expect(isCmqName(b)).toBe(true);
    expect(a).not.toBe(b);
    const long = groupQueueName(`t${'x'.repeat(60)}`, 'g'.repeat(40));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(isCmqName(long)).toBe(true);
    expect(groupQueueName(`t${'x'.repeat(60)}`, 'g'.repeat(41))).not.toBe(long);
  });
});
