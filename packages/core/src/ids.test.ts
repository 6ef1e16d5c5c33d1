import { describe, expect, it } from 'vitest';
import { newMessageId } from './ids.js';

describe('newMessageId', () => {
  it('is the process prefix and a base-36 counter, across the digits made once per 36 ids', () => {
    const first = newMessageId();
    const prefix = first.slice(0, first.lastIndexOf('-') + 1);
    const start = Number.parseInt(first.slice(prefix.length), 36);
    // Past 36², so the cached digits change at every 36th id and at a new digit count.
    for (let i = 1; i < 3_000; i++) expect(newMessageId()).toBe(prefix + (start + i).toString(36));
  });
});
