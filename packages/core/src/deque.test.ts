import { describe, expect, it } from 'vitest';
import { Deque } from './deque.js';

describe('Deque', () => {
  it('keeps FIFO order over bursts that empty it, with and without a kept chunk larger than the first', () => {
    for (const keep of [undefined, 1_024]) {
      const queue = new Deque<number>(keep);
      let next = 0;
      let expected = 0;
      // Bursts that grow past one chunk, shrink, and grow again: a kept chunk is written from its start.
      for (const burst of [40, 5, 100, 16, 17, 1, 300, 33]) {
        for (let i = 0; i < burst; i++) queue.push(next++);
        // Part of the burst out, a few more in, then the rest: a queue never emptied in between.
        for (let i = 0; i < burst >> 1; i++) expect(queue.shift()).toBe(expected++);
        for (let i = 0; i < 3; i++) queue.push(next++);
        while (queue.length > 0) expect(queue.shift()).toBe(expected++);
        expect(queue.shift()).toBeUndefined();
        expect(queue.peek()).toBeUndefined();
      }
      expect(expected).toBe(next);
    }
  });
});
