// The message core hands the driver (an Outgoing) with every field at its plain default, for the
// driver's own tests; `fields` overrides any of them. Not part of the package (dist is built from
// src only).

import type { Outgoing } from '@switchyard/core/driver';

export function outgoing(fields: Partial<Outgoing> = {}): Outgoing {
  return {
    id: 'm-1',
    body: Buffer.from('x'),
    contentType: 'application/octet-stream',
    headers: {},
    key: undefined,
    tags: [],
    routingKey: undefined,
    orderingKey: undefined,
    delayMs: undefined,
    // Fixed, so two encodings of the same fields compare equal.
    publishedAt: 1_765_000_000_000,
    ...fields,
  };
}
