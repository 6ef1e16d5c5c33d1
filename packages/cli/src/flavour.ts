// What the CLI checks about the flavour behind an endpoint before it asks for something: a feature
// the flavour lacks fails up front with "not on this flavour" (UNSUPPORTED, exit 5) instead of a
// driver error halfway through, and a memory:// target in a one-shot process gets a warning.

import { type Broker, type Feature, UnsupportedError } from '@switchyard/core';
import type { Endpoint } from './target.js';

/** Throws UNSUPPORTED naming the option and every flavour behind the endpoint that lacks `feature`. */
export async function requireFeature(
  endpoint: Endpoint,
  feature: Feature,
  option: string,
  why: string,
): Promise<void> {
  const lacking = (await endpoint.brokers()).filter(({ broker }) => !has(broker, feature));
  if (lacking.length === 0) return;
  const names = lacking.map(({ broker }) => broker.driver).join(', ');
  throw new UnsupportedError(
    `${option} is not on this flavour: ${names} cannot ${why} (capability "${feature}"; see docs/capabilities.md)`,
    { details: { feature, drivers: lacking.map(({ broker }) => broker.driver) } },
  );
}

function has(broker: Broker, feature: Feature): boolean {
  const value = broker.capabilities[feature];
  return value !== false && value !== 'none' && value !== 0;
}

/**
 * A memory:// broker lives in this process only: what a one-shot command sends to it is gone when
 * the command exits, and what it receives was sent by itself. Says so once per command.
 */
export async function warnIfMemory(
  endpoint: Endpoint,
  warn: (text: string) => void,
  consequence: string,
): Promise<void> {
  const memory = (await endpoint.brokers()).some(({ broker }) => broker.driver === 'memory');
  if (memory)
    warn(
      `${endpoint.label} is an in-process memory broker: ${consequence}; use it from code in one process, or give a real broker URL`,
    );
}
