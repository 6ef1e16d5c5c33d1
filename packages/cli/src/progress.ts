// Bridge progress: a cli-progress bar (count, rate, ETA with --max) on a terminal; plain lines
// every few seconds otherwise, so logs stay readable.

import cliProgress from 'cli-progress';
import { type Io, line } from './output.js';

export interface Progress {
  update(done: number, failed: number, startedAt: number): void;
  stop(): void;
}

const PLAIN_INTERVAL_MS = 5_000;

export function startProgress(io: Io, total: number, quiet: boolean): Progress {
  if (quiet) return { update() {}, stop() {} };
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr,
        format:
          total > 0
            ? 'bridge [{bar}] {percentage}% | {value}/{total} | {rate}/s | failed {failed} | ETA {eta_formatted}'
            : 'bridge {value} messages | {rate}/s | failed {failed} | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 0), 0, { rate: 0, failed: 0 });
    return {
      update(done, failed, startedAt) {
        const rate = Math.round((done / Math.max(Date.now() - startedAt, 1)) * 1000);
        bar.update(done, { rate, failed });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = Date.now();
  return {
    update(done, failed, startedAt) {
      const now = Date.now();
      if (now - last < PLAIN_INTERVAL_MS) return;
      last = now;
      const rate = Math.round((done / Math.max(now - startedAt, 1)) * 1000);
      line(io.stderr, `bridge: ${done}${total > 0 ? `/${total}` : ''} messages, ${rate}/s, failed ${failed}`);
    },
    stop() {},
  };
}
