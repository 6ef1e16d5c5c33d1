// Settling over the HTTP API: AcknowledgeMessage wants the message id, the AckTopic and the
// SubName that ReceiveMessage returned. A pack (several messages in one Pulsar message) is acked
// once every member is settled.

import { isSwitchyardError, type SwitchyardError, UnavailableError } from '@switchyard/core/driver';
import type { Api } from './client.js';
import { DRIVER } from './errors.js';

/** How a delivery is settled. */
export interface Handle {
  readonly messageId: string;
  readonly ackTopic: string;
  readonly subName: string;
  /** This delivery is settled (for a pack member: its share of the pack). */
  acked: boolean;
  /** Set for a member of a pack: the Pulsar message is acked when every member is settled. */
  readonly pack?: Pack;
  /** The consumer's visibility lease, in retry-topic mode (core's Leases keeps it here, not in a Map). */
  lease: object | undefined;
}

export interface Pack {
  remaining: number;
  acked: boolean;
}

/**
 * Acks a batch of deliveries (a consumer's ack()): what `acknowledge` does for each, with every
 * request of the batch waiting for its slot as one Limiter group (Api.callEach) and settled in one
 * reaction. Per delivery, an async step, `acknowledge`'s and `acknowledgeMessage`'s async frames,
 * a Limiter group of one behind the 32 in flight and Promise.allSettled's record were about nine
 * promises and eight closures (docs/bench-profiles.md §28). The same requests go out in the same
 * order, a delivery is marked acked when its request succeeded, and once every request has settled
 * the batch rejects with the first non-retryable error, else the first retryable one (core retries
 * the batch then; what succeeded is skipped).
 */
export function acknowledgeAll(api: Api, handles: readonly Handle[]): Promise<void> {
  const sent: Handle[] = [];
  for (const h of handles) {
    const pack = h.pack;
    if (pack !== undefined) {
      if (!h.acked) {
        h.acked = true;
        pack.remaining--;
      }
      if (pack.remaining > 0 || pack.acked) continue;
      sent.push(h);
    } else if (!h.acked) sent.push(h);
  }
  if (sent.length === 0) return Promise.resolve();
  // Module-level functions bound to the batch, not arrows made per batch: V8 kept an arrow's
  // optimized code only while a batch was under way, so a GC between bursts dropped it and the next
  // burst compiled it again (docs/bench-profiles.md §28.3).
  return api
    .callEach<AckResponse>(sent.length, 'AcknowledgeMessage', ackRequestAt.bind(sent))
    .then(ackOutcomes.bind(sent));
}

/** The AcknowledgeMessage request of the batch's `index`th handle. */
function ackRequestAt(this: readonly Handle[], index: number): object {
  return ackRequest(this[index] as Handle);
}

/**
 * The batch's answers, by index: what succeeded is marked acked; then the first non-retryable
 * error, else the first retryable one, is thrown.
 */
function ackOutcomes(this: readonly Handle[], outcomes: ReadonlyArray<AckResponse | Error>): void {
  let fatal: unknown;
  let retryable: SwitchyardError | undefined;
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i] as AckResponse | Error;
    const h = this[i] as Handle;
    const error = outcome instanceof Error ? outcome : ackRefused(outcome);
    if (error === undefined) {
      if (h.pack !== undefined) h.pack.acked = true;
      else h.acked = true;
    } else if (!isSwitchyardError(error) || !error.retryable) fatal ??= error;
    else retryable ??= error;
  }
  if (fatal !== undefined) throw fatal;
  if (retryable !== undefined) throw retryable;
}

interface AckResponse {
  ErrorMsg?: string | null;
}

function ackRequest(h: Handle): object {
  return { MessageId: h.messageId, AckTopic: h.ackTopic, SubName: h.subName };
}

/** An AcknowledgeMessage answered with an ErrorMsg: the typed error, else undefined. */
function ackRefused(response: AckResponse): UnavailableError | undefined {
  if (!response.ErrorMsg) return undefined;
  return new UnavailableError(`AcknowledgeMessage failed: ${response.ErrorMsg}`, {
    driver: DRIVER,
    details: { action: 'AcknowledgeMessage', errorMsg: response.ErrorMsg },
  });
}

/** Idempotent: a retried call sends only what has not succeeded yet. */
export async function acknowledge(api: Api, h: Handle): Promise<void> {
  if (h.pack !== undefined) {
    if (!h.acked) {
      h.acked = true;
      h.pack.remaining--;
    }
    if (h.pack.remaining > 0 || h.pack.acked) return;
    await acknowledgeMessage(api, h);
    h.pack.acked = true;
    return;
  }
  if (h.acked) return;
  await acknowledgeMessage(api, h);
  h.acked = true;
}

async function acknowledgeMessage(api: Api, h: Handle): Promise<void> {
  const refused = ackRefused(await api.call<AckResponse>('AcknowledgeMessage', ackRequest(h)));
  if (refused !== undefined) throw refused;
}
