import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { Capabilities } from './capabilities.js';
import type { DeadlineSignals } from './deadline-signal.js';
import type { DriverProducer, DriverReplyInbox } from './driver.js';
import { ClosedError, toSwitchyardError } from './errors.js';
import type { OutgoingMessage, Receipt } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';
import { type RateLimiter, throttle } from './rate-limit.js';
import { CORRELATION_ID_HEADER, REPLY_TO_HEADER, Replies } from './replies.js';
import type { ProducerTelemetry } from './telemetry/telemetry.js';

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

/** What a Producer lends a request sent its inbox's way. */
export interface InboxSend {
  readonly driver: DriverProducer;
  readonly driverName: string;
  readonly destination: string;
  readonly capabilities: Capabilities;
  readonly retry: BackoffPolicy;
  readonly limiter: RateLimiter | undefined;
  readonly telemetry: ProducerTelemetry | undefined;
  readonly deadlines: DeadlineSignals;
  /** Aborts when the producer's close gives up. */
  readonly closing: AbortSignal;
}

/**
 * Sends one request the driver must send its inbox's way (RabbitMQ direct reply-to), alone rather
 * than batched with sends, but otherwise as a send goes: validated, within the producer's
 * maxPerSecond, traced (its span, its context in the headers), and retried with backoff on
 * retryable failures until its deadline (the request's timeout, at most the send deadline).
 */
export async function sendThroughInbox(
  via: InboxSend,
  request: OutgoingMessage,
  inbox: DriverReplyInbox,
  timeoutMs: number,
): Promise<Receipt> {
  let outgoing = prepareOutgoing(request, via.capabilities, via.driverName, undefined, Date.now());
  if (via.limiter !== undefined && !(await throttle(via.limiter, 1, via.closing))) {
    throw new ClosedError(
      `producer for "${via.destination}" closed before this request was sent; it was not sent`,
      {
        driver: via.driverName,
      },
    );
  }
  const traced = via.telemetry?.send([outgoing]);
  if (traced !== undefined) outgoing = traced.messages[0]!;
  const deadline = via.deadlines.acquire(Date.now() + Math.min(timeoutMs, via.retry.deadlineMs));
  try {
    const receipt = await attempts(via, outgoing, inbox, deadline.signal);
    traced?.observation?.sent(0, receipt);
    return receipt;
  } catch (error) {
    traced?.observation?.failed(error as Error);
    throw error;
  } finally {
    via.deadlines.release(deadline);
  }
}

async function attempts(
  via: InboxSend,
  outgoing: Parameters<DriverProducer['sendBatch']>[0][number],
  inbox: DriverReplyInbox,
  signal: AbortSignal,
): Promise<Receipt> {
  for (let attempt = 1; ; attempt++) {
    const [result] = await via.driver.sendRequests!([outgoing], inbox, signal).catch((error: unknown) => [
      error as Error,
    ]);
    if (result !== undefined && !(result instanceof Error)) return result;
    const error = toSwitchyardError(result ?? new Error('driver returned no result'), via.driverName);
    if (!error.retryable || signal.aborted || attempt >= via.retry.maxAttempts) throw error;
    await sleep(backoffDelay(via.retry, attempt), signal).catch(() => {});
  }
}
