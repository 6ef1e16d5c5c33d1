import type { Broker, Health } from '@switchyard/core';

/**
 * The @nestjs/terminus indicator result for a broker: `{ [key]: { status, ...details } }`, the
 * shape `HealthIndicatorService.check(key).up(details)` / `.down(details)` builds. Use it from a
 * terminus indicator (throw or return `down` when `status` is 'down') or from any HTTP probe.
 */
export async function switchyardHealth(
  broker: Broker,
  key = 'switchyard',
  options: { timeoutMs?: number } = {},
): Promise<Record<string, { status: Health['status'] } & Health['details']>> {
  const health = await broker.health(options);
  return { [key]: { ...health.details, status: health.status } };
}

/** What a plain HTTP probe answers: 200 when up, 503 when down, the details as the JSON body. */
export async function healthResponse(
  broker: Broker,
  options: { timeoutMs?: number } = {},
): Promise<{ statusCode: 200 | 503; body: string }> {
  const health = await broker.health(options);
  return { statusCode: health.status === 'up' ? 200 : 503, body: JSON.stringify(health) };
}
