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
  const response = await api.call<{ ErrorMsg?: string | null }>('AcknowledgeMessage', {
    MessageId: h.messageId,
    AckTopic: h.ackTopic,
    SubName: h.subName,
  });
  if (response.ErrorMsg) {
    throw new UnavailableError(`AcknowledgeMessage failed: ${response.ErrorMsg}`, {
      driver: DRIVER,
      details: { action: 'AcknowledgeMessage', errorMsg: response.ErrorMsg },
    });
  }
}

/**
 * Runs every step and waits for all; rejects with a non-retryable error if there was one, else
 * with a retryable one (the portable layer retries the call; finished steps are skipped then).
 */
export async function settleAll(steps: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(steps);
  let retryable: SwitchyardError | undefined;
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const e = r.reason as SwitchyardError;
    if (!isSwitchyardError(e) || !e.retryable) throw r.reason;
    retryable ??= e;
  }
  if (retryable) throw retryable;
}
