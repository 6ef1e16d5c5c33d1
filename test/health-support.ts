import type { Broker, Health } from '@switchyard/core';

/** Asks broker.health() until it reports `status` (the event waited for), and returns that report. */
export async function healthBecomes(
  broker: Broker,
  status: Health['status'],
  timeoutMs = 3_000,
): Promise<Health> {
  for (;;) {
    const health = await broker.health({ timeoutMs });
    if (health.status === status) return health;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
