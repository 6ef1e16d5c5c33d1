import { type Broker, connect, InvalidArgumentError } from '@switchyard/core';
import type { BrokerSource } from './options.js';

/** The broker a transport uses, and whether it opened it (and so closes it). */
export interface HeldBroker {
  readonly broker: Broker;
  readonly owned: boolean;
}

export async function openBroker(source: BrokerSource): Promise<HeldBroker> {
  if ('broker' in source) return { broker: source.broker, owned: false };
  return { broker: await connect(source.connect, source.connectOptions), owned: true };
}

/**
 * The destination a Nest pattern names: the pattern itself, or its entry in `destinations`.
 * Object patterns ({ cmd: 'sum' }) name no destination unless mapped: Switchyard routes by
 * destination, not by a pattern inside the message.
 */
export function destinationOf(
  pattern: string,
  destinations: Readonly<Record<string, string>> | undefined,
): string {
  const mapped = destinations?.[pattern];
  if (mapped !== undefined) return mapped;
  if (pattern.startsWith('{')) {
    throw new InvalidArgumentError(
      `the Nest pattern ${pattern} is an object; Switchyard routes by destination: use a string pattern (the destination name) or map it in the transport's "destinations" option`,
    );
  }
  return pattern;
}
