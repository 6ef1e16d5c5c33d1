// Dual-write for migrations: every message goes to two brokers with the same id, so consumers on
// either side (and a later dedupe by id or key) see the same message.
//
// Failure policy, chosen per binding with `require`:
// - 'both' (default): send() resolves only when both brokers accepted the message. If either
//   side fails (after its producer's own retries), send() rejects with a DualWriteError naming
//   the side(s) that failed; the side that accepted keeps its copy. A caller that retries
//   therefore produces a duplicate on that side, with the same message id.
// - 'primary': send() resolves when the primary accepted, without waiting for the secondary.
//   A secondary failure never fails the send: it is counted (stats.secondaryFailed), logged, and
//   passed to `onSecondaryError` with the messages. Those messages are NOT re-sent to the
//   secondary: during a migration the primary is the source of truth and the secondary is made
//   whole by the bridge (drain old into new) before cut-over. If the primary fails, send()
//   rejects even when the secondary accepted (a duplicate there on retry). close() waits for
//   secondary sends in flight.

import { ErrorCode, SwitchyardError, toSwitchyardError } from '../errors.js';
import { newMessageId } from '../ids.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { OutgoingMessage, Receipt } from '../message-types.js';
import type { Producer, SendInput } from '../producer.js';

export type DualWriteRequire = 'both' | 'primary';

/** What a binding producer offers: the send/close part of a core Producer. */
export interface BindingProducer {
  readonly destination: string;
  readonly closed: boolean;
  send(message: SendInput): Promise<Receipt>;
  send(messages: readonly SendInput[]): Promise<Receipt[]>;
  close(): Promise<void>;
}

export interface DualWriteOptions {
  require?: DualWriteRequire;
  /** Names used in errors and logs, e.g. the broker names from the config file. */
  names?: readonly [string, string];
  logger?: Logger;
  /** 'primary' mode: called once per failed secondary send. */
  onSecondaryError?: (error: SwitchyardError, messages: readonly OutgoingMessage[]) => void;
}

export interface DualWriteStats {
  sent: number;
  primaryFailed: number;
  secondaryFailed: number;
}

/** A send that failed on one or both sides of a dual-write. `code` is the first failure's. */
export class DualWriteError extends SwitchyardError {
  /** Which sides failed, and which accepted the message(s). */
  readonly failed: readonly string[];
  readonly accepted: readonly string[];
  readonly errors: readonly SwitchyardError[];

  constructor(failed: string[], accepted: string[], errors: SwitchyardError[]) {
    const first = errors[0]!;
    super(
      first.code,
      `dual-write failed on ${failed.join(' and ')}${accepted.length > 0 ? ` (accepted by ${accepted.join(', ')}: a retry duplicates it there, with the same id)` : ''}: ${errors.map((e) => e.message).join('; ')}`,
      {
        retryable: errors.every((e) => e.retryable),
        cause: first,
        details: { failed, accepted, codes: errors.map((e) => e.code) },
        ...(first.driver === undefined ? {} : { driver: first.driver }),
      },
    );
    this.name = 'DualWriteError';
    this.failed = failed;
    this.accepted = accepted;
    this.errors = errors;
  }
}

export class DualWriteProducer implements BindingProducer {
  readonly destination: string;
  readonly require: DualWriteRequire;
  readonly stats: DualWriteStats = { sent: 0, primaryFailed: 0, secondaryFailed: 0 };
  readonly #primary: BindingProducer;
  readonly #secondary: BindingProducer;
  readonly #names: readonly [string, string];
  readonly #logger: Logger;
  readonly #onSecondaryError: DualWriteOptions['onSecondaryError'];
  readonly #background = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(
    primary: BindingProducer | Producer,
    secondary: BindingProducer | Producer,
    options: DualWriteOptions = {},
  ) {
    this.#primary = primary;
    this.#secondary = secondary;
    this.require = options.require ?? 'both';
    this.#names = options.names ?? ['primary', 'secondary'];
    this.#logger = options.logger ?? silentLogger;
    this.#onSecondaryError = options.onSecondaryError;
    this.destination = primary.destination;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  send(message: SendInput): Promise<Receipt>;
  send(messages: readonly SendInput[]): Promise<Receipt[]>;
  async send(input: SendInput | readonly SendInput[]): Promise<Receipt | Receipt[]> {
    if (this.#closing !== undefined) {
      throw new SwitchyardError(ErrorCode.CLOSED, `dual-write producer for "${this.destination}" is closed`);
    }
    const many = Array.isArray(input);
    // One id for both copies, so either side (and a dedupe) can recognise the same message.
    const messages = (many ? (input as readonly SendInput[]) : [input as SendInput]).map(withId);
    const [primaryName, secondaryName] = this.#names;
    const primary = this.#primary.send(messages);
    const secondary = this.#secondary.send(messages);
    if (this.require === 'primary') {
      const tracked = secondary.then(
        () => undefined,
        (error: unknown) => {
          const e = toSwitchyardError(error);
          this.stats.secondaryFailed += messages.length;
          this.#logger.warn(
            { destination: this.destination, side: secondaryName, code: e.code, count: messages.length },
            'dual-write: secondary send failed; the primary has the message(s)',
          );
          this.#onSecondaryError?.(e, messages);
        },
      );
      this.#background.add(tracked);
      void tracked.finally(() => this.#background.delete(tracked));
      try {
        const receipts = await primary;
        this.stats.sent += messages.length;
        return many ? receipts : receipts[0]!;
      } catch (error) {
        this.stats.primaryFailed += messages.length;
        throw new DualWriteError([primaryName], [], [toSwitchyardError(error)]);
      }
    }
    const [p, s] = await Promise.allSettled([primary, secondary]);
    if (p.status === 'fulfilled' && s.status === 'fulfilled') {
      this.stats.sent += messages.length;
      return many ? p.value : p.value[0]!;
    }
    const failed: string[] = [];
    const accepted: string[] = [];
    const errors: SwitchyardError[] = [];
    if (p.status === 'rejected') {
      this.stats.primaryFailed += messages.length;
      failed.push(primaryName);
      errors.push(toSwitchyardError(p.reason));
    } else accepted.push(primaryName);
    if (s.status === 'rejected') {
      this.stats.secondaryFailed += messages.length;
      failed.push(secondaryName);
      errors.push(toSwitchyardError(s.reason));
    } else accepted.push(secondaryName);
    throw new DualWriteError(failed, accepted, errors);
  }

  /** Waits for sends in flight on both sides (secondary ones too), then closes both producers. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#background]);
      await Promise.allSettled([this.#primary.close(), this.#secondary.close()]);
    })();
    return this.#closing;
  }
}

function withId(input: SendInput): OutgoingMessage {
  const message: OutgoingMessage =
    typeof input === 'string' || input instanceof Uint8Array ? { body: input } : { ...input };
  message.id ??= newMessageId();
  return message;
}
