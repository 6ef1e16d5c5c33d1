import { describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, MAX_BATCH_COUNT, splitBatches } from './batching.js';

const item = (index: number, bytes: number, key = '') => ({ index, text: '', bytes, key });

describe('splitBatches', () => {
  it('cuts at 16 messages', () => {
    const chunks = splitBatches(Array.from({ length: 40 }, (_, i) => item(i, 10)));
    expect(chunks.map((c) => c.length)).toEqual([16, 16, 8]);
    expect(chunks.flat().map((i) => i.index)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(MAX_BATCH_COUNT).toBe(16);
  });

  it('cuts before the bodies of one request pass 1 MiB', () => {
    const size = 300_000; // three fit (900,000), a fourth would not
    const chunks = splitBatches(Array.from({ length: 7 }, (_, i) => item(i, size)));
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 1]);
    for (const c of chunks) expect(c.reduce((n, i) => n + i.bytes, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it('a batch exactly at the byte limit stays one request', () => {
    const chunks = splitBatches([item(0, MAX_BATCH_BYTES / 2), item(1, MAX_BATCH_BYTES / 2)]);
    expect(chunks).toHaveLength(1);
  });

  it('never mixes keys (delaySeconds, tag sets, routing keys) in one request', () => {
    const items = [item(0, 1, 'a'), item(1, 1, 'b'), item(2, 1, 'a'), item(3, 1, 'b'), item(4, 1, 'c')];
    const chunks = splitBatches(items);
    expect(chunks.map((c) => c.map((i) => i.index))).toEqual([[0, 2], [1, 3], [4]]);
  });
});
