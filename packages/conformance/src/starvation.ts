import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/**
 * CPU starvation, the way a loaded container or a busy neighbour starves a service: a worker
 * thread keeps one core spinning, and the test's own event loop is blocked for `blockMs` out of
 * every `everyMs`, so timers fire late and callbacks bunch up. Lease timers, nack paths and
 * redelivery then race each other as they do in production; a driver whose correctness depends
 * on timing (two paths both republishing, a lease that fires during a nack) shows it here.
 */
export interface Starvation {
  /** Longest event-loop delay seen so far, ms: proof the loop really lagged. */
  readonly maxLagMs: number;
  stop(): Promise<void>;
}

export function starve(options: { blockMs?: number; everyMs?: number } = {}): Starvation {
  const blockMs = options.blockMs ?? 40;
  const everyMs = options.everyMs ?? 60;
  const spinner = new Worker('for (;;) {}', { eval: true });
  spinner.unref();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const blocker = setInterval(() => {
    const until = performance.now() + blockMs;
    while (performance.now() < until) {
      // Busy: nothing else on this thread runs meanwhile.
    }
  }, everyMs);
  blocker.unref();
  return {
    get maxLagMs() {
      return lag.max / 1e6;
    },
    async stop() {
      clearInterval(blocker);
      lag.disable();
      await spinner.terminate();
    },
  };
}
