// One Outgoing fixture for every driver's unit tests (and the benches that feed a driver directly),
// which each wrote the same eleven-field literal. Its own entry point, `@switchyard/conformance/outgoing`:
// the main entry registers Vitest suites, and a bench script run outside Vitest must not load it.

import type { Outgoing } from '@switchyard/core/driver';

/**
 * A message as core hands it to a driver's `sendBatch`, for a driver's unit tests of how it maps
 * the message onto its broker's (properties, headers, keys, delay): every field at its plain
 * default — a one-byte body `x` as a plain `Uint8Array` (what core hands over, not a `Buffer`),
 * `application/octet-stream`, no headers, keys, tags, routing or ordering key, no delay — and
 * `fields` overriding any of them.
 *
 * `publishedAt` is a fixed instant, so two encodings of the same fields compare equal; pass
 * `publishedAt: Date.now()` where the broker or the test reads the age of the message.
 *
 * @example
 * ```ts
 * import { outgoing } from '@switchyard/conformance/outgoing';
 *
 * // A driver producer opened on a test destination, sending what `send()` with a key would.
 * const [receipt] = await producer.sendBatch([outgoing({ key: 'order-7', headers: { region: 'eu' } })]);
 * ```
 */
export function outgoing(fields: Partial<Outgoing> = {}): Outgoing {
  return {
    id: 'm-1',
    body: new TextEncoder().encode('x'),
    contentType: 'application/octet-stream',
    headers: {},
    key: undefined,
    tags: [],
    routingKey: undefined,
    orderingKey: undefined,
    delayMs: undefined,
    publishedAt: 1_765_000_000_000,
    ...fields,
  };
}
