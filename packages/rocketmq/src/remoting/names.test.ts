import { describe, expect, it } from 'vitest';
import { validateWireName } from './names.js';

describe('validateWireName', () => {
  it('takes TDMQ full names and retry/dead-letter topics', () => {
    expect(validateWireName('topic', 'rocketmq-xxx|ns_1%orders')).toBe('rocketmq-xxx|ns_1%orders');
    expect(validateWireName('topic', '%DLQ%rocketmq-xxx|ns%billing')).toBe('%DLQ%rocketmq-xxx|ns%billing');
    expect(validateWireName('group', 'g'.repeat(255))).toHaveLength(255);
  });

  it('refuses what an Apache client refuses, naming the rule', () => {
    expect(() => validateWireName('topic', 'bad name!')).toThrow(/letters, digits/);
    expect(() => validateWireName('topic', 'orders.v2')).toThrow(/"orders.v2"/);
    expect(() => validateWireName('topic', 't'.repeat(128))).toThrow(/at most 127/);
    expect(() => validateWireName('group', 'g'.repeat(256))).toThrow(/at most 255/);
    expect(() => validateWireName('group', '')).toThrow(/group name/);
  });
});
