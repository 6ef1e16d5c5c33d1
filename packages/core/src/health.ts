import type { Driver, ProbeDetails } from './driver.js';
import { errorCode, TimeoutError } from './errors.js';
import type { StatusEvent } from './status.js';

export const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;

export interface HealthOptions {
  /** Longest the check may take; a broker that has not answered by then is down (default 5 s). */
  readonly timeoutMs?: number;
}

/**
 * The broker's health, in the shape health endpoints use: `status` for the verdict (what
 * @nestjs/terminus calls up/down, what an HTTP probe maps to 200/503), `details` for people
 * (driver, connection status, latency of the probe, why it is down). Never carries a secret.
 */
export interface Health {
  readonly status: 'up' | 'down';
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Asks the driver's probe for a round trip to the broker, within `timeoutMs`. Without a probe the
 * driver's last status event decides (a driver that reports reconnecting is down). A closed broker
 * is down without asking.
 */
export async function probeHealth(
  driver: Driver,
  status: StatusEvent | undefined,
  closed: boolean,
  options: HealthOptions,
): Promise<Health> {
  const base: Record<string, string | number | boolean> = { driver: driver.name };
  if (status !== undefined) base.connection = status.type;
  if (closed) return { status: 'down', details: { ...base, error: 'the broker is closed' } };
  if (driver.probe === undefined) {
    const up = status === undefined || status.type === 'connected';
    return { status: up ? 'up' : 'down', details: base };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const abort = new AbortController();
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(
        `the ${driver.name} broker did not answer the health probe within ${timeoutMs} ms`,
        {
          driver: driver.name,
        },
      );
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    // Raced, not only signalled: a probe stuck in a call that ignores the signal still ends on time.
    const details: ProbeDetails | undefined = await Promise.race([driver.probe(abort.signal), late]);
    return { status: 'up', details: { ...base, ...details, latencyMs: Date.now() - started } };
  } catch (error) {
    return {
      status: 'down',
      details: { ...base, code: errorCode(error), error: (error as Error).message ?? String(error) },
    };
  } finally {
    clearTimeout(timer);
  }
}
