import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { DriverProducer, DriverReplyInbox } from './driver.js';
import { toSwitchyardError } from './errors.js';
import type { Outgoing, OutgoingMessage, Receipt } from './message-types.js';
import { CORRELATION_ID_HEADER, REPLY_TO_HEADER, Replies } from './replies.js';

/**
 * The request as sent: the caller's message with a correlation id (the caller's own
 * `correlation-id` header, else a fresh one) and the inbox's address as `reply-to`.
 */
export function requestMessage(
  input: OutgoingMessage | string | Uint8Array,
  replyTo: string,
): { readonly message: OutgoingMessage; readonly correlationId: string } {
  const message = typeof input === 'string' || input instanceof Uint8Array ? { body: input } : input;
  const correlationId = message.headers?.[CORRELATION_ID_HEADER] ?? Replies.correlationId();
  return {
    message: {
      ...message,
      headers: { ...message.headers, [CORRELATION_ID_HEADER]: correlationId, [REPLY_TO_HEADER]: replyTo },
    },
    correlationId,
  };
}

/**
 * Sends one request the driver must send its inbox's way (RabbitMQ direct reply-to), alone rather
 * than batched with sends, retrying retryable failures with backoff until `signal` aborts (the
 * request's deadline) or the attempts run out.
 */
export async function sendThroughInbox(
  driver: DriverProducer,
  outgoing: Outgoing,
  inbox: DriverReplyInbox,
  policy: BackoffPolicy,
  signal: AbortSignal,
  driverName: string,
): Promise<Receipt> {
  for (let attempt = 1; ; attempt++) {
    const [result] = await driver.sendRequests!([outgoing], inbox, signal).catch((error: unknown) => [
      error as Error,
    ]);
    if (result !== undefined && !(result instanceof Error)) return result;
    const error = toSwitchyardError(result ?? new Error('driver returned no result'), driverName);
    if (!error.retryable || signal.aborted || attempt >= policy.maxAttempts) throw error;
    await sleep(backoffDelay(policy, attempt), signal).catch(() => {});
  }
}
