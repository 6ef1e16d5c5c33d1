import { setMaxListeners } from 'node:events';
import { TimeoutError } from './errors.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The signal a driver gets with one send: it aborts when `parent` does (the producer's close gave
 * up) or at `deadline` (epoch ms), whichever is first. A driver cannot read a deadline out of a
 * signal, so this is how a driver attempt that would wait longer (a RabbitMQ publish waiting for a
 * reconnect or an unblock) learns the send has no time left. The deadline's reason is a TIMEOUT
 * SwitchyardError, so a driver can tell it from a close. `dispose` when the send settled.
 */
export function deadlineSignal(
  parent: AbortSignal,
  deadline: number,
  driver: string,
): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  // A driver may hand one send's signal to every request it pipelines for the batch (Pulsar over
  // HTTP: up to 64): more listeners than Node's default of 10 is normal here, not a leak.
  setMaxListeners(0, controller.signal);
  const onParent = () => controller.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  const left = Math.max(0, deadline - Date.now());
  // setTimeout fires at once for a delay past 2^31 - 1 ms (~24.8 days): no timer for those.
  const timer =
    left <= MAX_TIMER_MS
      ? setTimeout(
          () => controller.abort(new TimeoutError('the send reached its deadline', { driver })),
          left,
        )
      : undefined;
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
    },
  };
}
