// `switchyard bridge`: consume from one broker, publish to another. A message is acked at the
// source only after the destination confirmed it; a message whose send failed is given back to
// the source (nack), so a stop — SIGINT, --max, --idle, an error — never loses one. Body,
// content type, headers, key, tags, routing and ordering keys and the message id travel along.

import {
  type BindingConsumer,
  type BindingProducer,
  type Message,
  type OutgoingMessage,
  redact,
} from '@switchyard/core';
import { whenAborted } from '../abort.js';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { warnIfMemory } from '../flavour.js';
import { errorText, type Io, line } from '../output.js';
import { type Progress, startProgress } from '../progress.js';
import { RateLimiter } from '../rate-limiter.js';
import { type Endpoint, openEndpoint, type TargetContext } from '../target.js';

/** The group a bridge reads a URL source as, unless -g names one. */
export const BRIDGE_GROUP = 'switchyard-bridge';

export interface BridgeOptions {
  from: string;
  to: string;
  source?: string;
  destination?: string;
  /** Unset: the binding's own group for `config:`, `switchyard-bridge` for a URL. */
  group?: string;
  max: number;
  rate?: number;
  idle?: number;
  batch: number;
  ordered?: boolean;
  /**
   * Where a message the destination permanently refuses (too large, a field it cannot carry, an
   * invalid value) goes, on the source broker, so one such message does not block a drain.
   * Unset: the bridge gives it back and stops.
   */
  deadLetter?: string;
  json?: boolean;
  progress?: boolean;
}

export interface BridgeSummary {
  ok: boolean;
  from: string;
  to: string;
  received: number;
  bridged: number;
  failed: number;
  givenBack: number;
  /** Refused by the destination and moved to --dead-letter at the source. */
  deadLettered: number;
  durationMs: number;
  /** From the first message received to the last one settled: the rate is measured over this. */
  activeMs: number;
  ratePerSecond: number;
  stoppedBy: 'max' | 'idle' | 'signal' | 'error';
  error?: { code: string; message: string };
}

export async function bridgeCommand(
  options: BridgeOptions,
  io: Io,
  context: TargetContext,
  interrupt: AbortSignal,
): Promise<number> {
  const started = Date.now();
  let from: Endpoint | undefined;
  let to: Endpoint | undefined;
  let consumer: BindingConsumer | undefined;
  let producer: BindingProducer | undefined;
  const counts = { received: 0, bridged: 0, failed: 0, givenBack: 0, deadLettered: 0 };
  let stoppedBy: BridgeSummary['stoppedBy'] = 'idle';
  let failure: unknown;
  let firstAt: number | undefined;
  let lastAt: number | undefined;
  let stopped: ReturnType<typeof whenAborted<Message[]>> | undefined;
  const inFlight: Promise<void>[] = [];
  const progress: Progress = startProgress(
    io,
    options.max,
    options.json === true || options.progress === false,
  );
  try {
    from = await openEndpoint(options.from, '--from', context);
    to = await openEndpoint(options.to, '--to', context);
    await warnIfMemory(from, context.warn, 'it starts empty in every process');
    await warnIfMemory(to, context.warn, 'what is bridged there vanishes when this command exits, unread');
    // With --ordered one batch is in flight at a time, so messages reach the destination in the
    // order the source delivered them (per ordering key and overall).
    producer = await to.producer(
      { destination: options.destination },
      options.ordered ? { maxInFlight: 1 } : {},
    );
    consumer = await from.consumer(
      // A binding's backlog belongs to its group (one subscription per group on fan-out flavours),
      // so a config: source keeps it unless -g says otherwise.
      { source: options.source, group: options.group ?? (from.kind === 'url' ? BRIDGE_GROUP : undefined) },
      {
        // Room for the batches in flight and the one being received.
        prefetch: Math.max(options.batch, 1) * (options.ordered ? 2 : 3),
        ...(options.deadLetter === undefined ? {} : { deadLetter: options.deadLetter }),
      },
    );
    stopped = whenAborted<Message[]>(interrupt, []);
    const limiter = options.rate === undefined ? undefined : new RateLimiter(options.rate);
    const idleMs = options.idle ?? 0;
    // With --ordered one batch is in flight (the order above holds across a failure too).
    const depth = options.ordered ? 1 : 2;
    // Why each message of a batch was not confirmed (CONFIRMED: it was); undefined: all were.
    const outcomesOf = async (batch: Message[]): Promise<unknown[] | undefined> => {
      // One send() for the whole batch: one promise, one group, one queue record, against one per
      // message (≈ a third of the bridge's own per-message CPU went to those and their settling).
      // It resolves only once every message of it is confirmed.
      try {
        await producer!.send(batch.map(copyOf));
        return undefined;
      } catch (error) {
        // A failure the destination would give every retry (a refusal: too large, a field it
        // cannot carry) concerns single messages: each is sent again on its own to learn which
        // were refused and which were not (those are dead-lettered or given back, the rest acked).
        // Other failures (the destination unreachable past the retry deadline, closed) end the
        // drain anyway: the whole batch is given back, without waiting out the deadline again.
        // Either way a message of this batch the destination had already accepted reaches it
        // twice (sent again here, or redelivered by the source later): at-least-once, as the
        // bridge already is across a crash between a confirm and its ack. Never lost.
        if (!isRefusal(error)) return batch.map(() => error);
        const results = await Promise.allSettled(batch.map((m) => producer!.send(copyOf(m))));
        return results.map((result) => (result.status === 'fulfilled' ? CONFIRMED : result.reason));
      }
    };
    const forward = async (batch: Message[]): Promise<void> => {
      const outcomes = await outcomesOf(batch);
      const settles: Promise<unknown>[] = [];
      // Acks made together share one promise (core coalesces them into one driver ack): each is
      // waited for once, not once per message (a reaction, two element functions and a result
      // object each in allSettled, ≈ 256 per batch for what is mostly one or two promises).
      let lastAck: Promise<unknown> | undefined;
      for (let i = 0; i < batch.length; i++) {
        const message = batch[i]!;
        const reason = outcomes === undefined ? CONFIRMED : outcomes[i];
        if (reason === CONFIRMED) {
          counts.bridged++;
          const acked = message.ack();
          if (acked !== lastAck) {
            settles.push(acked);
            lastAck = acked;
          }
        } else if (options.deadLetter !== undefined && isRefusal(reason)) {
          counts.deadLettered++;
          settles.push(
            message.deadLetter(`bridge to ${to!.label} refused it: ${errorText(reason)}`).catch((error) => {
              // Not moved: it stays at the source (given back), and the bridge stops on it.
              counts.deadLettered--;
              counts.failed++;
              counts.givenBack++;
              failure ??= error;
              return message.nack().catch(() => {});
            }),
          );
        } else {
          counts.failed++;
          counts.givenBack++;
          failure ??= reason;
          settles.push(message.nack().catch(() => {}));
        }
      }
      // An ack that fails leaves its message at the source, to come back: the bridge stops on it.
      for (const settled of await Promise.allSettled(settles)) {
        if (settled.status === 'rejected') failure ??= settled.reason;
      }
      lastAt = Date.now();
      progress.update(counts.bridged, counts.failed, firstAt ?? lastAt);
    };
    for (;;) {
      if (failure !== undefined) {
        stoppedBy = 'error';
        break;
      }
      if (interrupt.aborted) {
        stoppedBy = 'signal';
        break;
      }
      let want = options.batch;
      if (options.max > 0) want = Math.min(want, options.max - counts.received);
      if (want <= 0) {
        stoppedBy = 'max';
        break;
      }
      if (limiter !== undefined) want = await limiter.take(want, interrupt);
      if (want === 0) continue;
      const waitMs = idleMs > 0 ? idleMs : 1_000;
      // A signal ends the wait at once; messages a late receive still takes are given back on close.
      const batch = await Promise.race([consumer.receive({ max: want, waitMs }), stopped.promise]);
      if (failure !== undefined) {
        // A batch in flight failed while this one was received: it is given back unforwarded
        // (it may hold the very message just given back) and the bridge stops on the failure.
        await Promise.all(batch.map((m) => m.nack().catch(() => {})));
        stoppedBy = 'error';
        break;
      }
      if (batch.length === 0 && interrupt.aborted) {
        stoppedBy = 'signal';
        break;
      }
      if (batch.length === 0) {
        if (idleMs > 0) {
          stoppedBy = 'idle';
          break;
        }
        continue;
      }
      firstAt ??= Date.now();
      counts.received += batch.length;
      // The next batch is received and sent while this one waits for its confirms, as a raw copy
      // loop would pipeline; each message is still acked only after its own send was confirmed.
      inFlight.push(forward(batch));
      if (inFlight.length >= depth) await inFlight.shift();
    }
    await Promise.all(inFlight);
    if (failure !== undefined) stoppedBy = 'error';
  } catch (error) {
    failure ??= error;
    stoppedBy = 'error';
  } finally {
    // Batches still being forwarded settle first, so what they sent is acked, not redelivered.
    await Promise.allSettled(inFlight);
    stopped?.dispose();
    progress.stop();
    // Closing the consumer gives back whatever was taken but not settled; nothing is lost.
    await consumer?.close().catch(() => {});
    await producer?.close().catch(() => {});
    await from?.close().catch(() => {});
    await to?.close().catch(() => {});
  }
  const durationMs = Date.now() - started;
  const activeMs = firstAt !== undefined && lastAt !== undefined ? lastAt - firstAt : 0;
  const summary: BridgeSummary = {
    ok: failure === undefined,
    // An endpoint that failed to open has no label yet: its URL as given, credentials hidden.
    from: from?.label ?? redact(options.from),
    to: to?.label ?? redact(options.to),
    ...counts,
    durationMs,
    activeMs,
    ratePerSecond: Math.round((counts.bridged / Math.max(activeMs, 1)) * 1000),
    stoppedBy,
    ...(failure === undefined
      ? {}
      : { error: { code: (failure as { code?: string }).code ?? 'INTERNAL', message: errorText(failure) } }),
  };
  if (options.json) line(io.stdout, JSON.stringify(summary));
  else {
    line(
      io.stdout,
      `bridged ${summary.bridged} message${summary.bridged === 1 ? '' : 's'} from ${summary.from} to ${summary.to} in ${(durationMs / 1000).toFixed(1)} s (${summary.ratePerSecond}/s); failed ${summary.failed} (given back to the source)${options.deadLetter === undefined ? '' : `; refused by the destination ${summary.deadLettered} (moved to ${options.deadLetter} at the source)`}; stopped by ${stoppedBy}`,
    );
    if (failure !== undefined) line(io.stderr, `switchyard bridge: ${errorText(failure)}`);
  }
  if (failure !== undefined) return counts.bridged > 0 ? ExitCode.PARTIAL : exitCodeFor(failure);
  return stoppedBy === 'signal' ? ExitCode.INTERRUPTED : ExitCode.OK;
}

/** An outcome: the destination confirmed the message. */
const CONFIRMED = Symbol('confirmed');

/** Codes that say "this message can never go there": retrying or waiting cannot help. */
const REFUSALS = new Set(['INVALID_ARGUMENT', 'MESSAGE_TOO_LARGE', 'UNSUPPORTED']);

function isRefusal(error: unknown): boolean {
  const e = error as { code?: string; retryable?: boolean };
  return e.retryable !== true && e.code !== undefined && REFUSALS.has(e.code);
}

/**
 * The outgoing copy of a received message: everything a portable message carries. Fields are
 * assigned to one literal, not spread in from conditional literals (a temporary object per field
 * and V8's slow path for properties added after a spread, per message); only fields the message
 * has are set (a key present as undefined is not the same message to every check).
 */
export function copyOf(message: Message): OutgoingMessage {
  const copy: { -readonly [K in keyof OutgoingMessage]: OutgoingMessage[K] } = {
    id: message.id,
    body: message.body,
  };
  if (message.contentType !== undefined) copy.contentType = message.contentType;
  // Not copied here: the producer copies headers as it checks them, before send() returns.
  if (hasAny(message.headers)) copy.headers = message.headers;
  if (message.key !== undefined) copy.key = message.key;
  if (message.tags.length > 0) copy.tags = [...message.tags];
  if (message.routingKey !== undefined) copy.routingKey = message.routingKey;
  if (message.orderingKey !== undefined) copy.orderingKey = message.orderingKey;
  return copy;
}

/** Whether an object has an own enumerable key, without Object.keys' array. */
function hasAny(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
