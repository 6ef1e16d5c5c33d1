import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { Io } from './output.js';
import { startProgress } from './progress.js';

function io(tty: boolean): { io: Io; err: () => string } {
  const stderr = Object.assign(new PassThrough(), {
    isTTY: tty,
    columns: 120,
    cursorTo() {},
    clearLine() {},
    moveCursor() {},
  });
  let text = '';
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  return { io: { stdout: new PassThrough(), stderr, stdin: new PassThrough() }, err: () => text };
}

describe('bridge progress', () => {
  it('draws a bar with counts, rate and failures on a terminal', () => {
    const { io: t, err } = io(true);
    const progress = startProgress(t, 1000, false);
    progress.update(500, 2, Date.now() - 1000);
    progress.stop();
    expect(err()).toMatch(/500\/1000 \| \d+\/s \| failed 2/);
  });

  it('prints a plain line at most every 5 s otherwise, and nothing when quiet', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { io: plain, err } = io(false);
      const progress = startProgress(plain, 0, false);
      const start = Date.now();
      progress.update(10, 0, start);
      expect(err()).toBe('');
      vi.setSystemTime(start + 5_001);
      progress.update(100, 1, start);
      expect(err()).toBe('bridge: 100 messages, 20/s, failed 1\n');
      const { io: quiet, err: quietErr } = io(false);
      const q = startProgress(quiet, 0, true);
      vi.setSystemTime(start + 20_000);
      q.update(5, 0, start);
      expect(quietErr()).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});
