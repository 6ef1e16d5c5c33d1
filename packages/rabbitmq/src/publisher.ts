import {
  anchorShape,
  isAborted,
  NotFoundError,
  onAbortOnce,
  type SwitchyardError,
  sleep,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core/driver';
import type { Channel, ConfirmChannel, Options } from 'amqplib';
import { inPlaceBodies } from './body-frames.js';
import { CLOSE_WAIT_MS, type ConnectionManager } from './connection.js';
import { deadlineReached, untilAborted, within } from './deadline.js';
import { DRIVER, mapError, unavailable } from './errors.js';

export interface PublishItem {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/** One confirm channel's life: what the broker returned on it, and why it closed. */
interface ChannelState {
  readonly channel: ConfirmChannel;
  readonly returned: Map<string, number>;
  closeError: unknown;
  /** Shared by every batch waiting for this channel's `drain` (one listener, not one per batch). */
  drained: Promise<void> | undefined;
}

/** A message that did not make it and may be published again (its channel died unconfirmed). */
const LOST = Symbol('lost');
type Outcome = true | SwitchyardError | typeof LOST;

/**
 * Told the moment the broker confirms one item of a publish (its index in the items given). An
 * object with a method rather than a callback per batch: see PendingConfirms.
 */
export interface ConfirmSink {
  confirmed(index: number): void;
}

/** A republish of some items (their channel died): confirms of the republished list, told by original index. */
class RemappedSink implements ConfirmSink {
  readonly #sink: ConfirmSink;
  readonly #indexes: readonly number[];

  constructor(sink: ConfirmSink, indexes: readonly number[]) {
    this.#sink = sink;
    this.#indexes = indexes;
  }

  confirmed(index: number): void {
    this.#sink.confirmed(this.#indexes[index]!);
  }
}

/**
 * One #publishOn's confirms: fills `outcomes` (one slot per item), counts down `open`, and ends
 * the wait for the last. A class, not closures made per batch: V8 holds a closure's optimized code
 * only weakly, so per-batch closures that are all gone at a mark-compact lose it and the next
 * batch's compile it again — at 64 KiB and 1 MiB, where every round of the bench has mark-compacts,
 * 3–6 TurboFan compiles of this file's and the producer's closures per 1,500 messages
 * (docs/bench-profiles.md 22.1). Methods on the prototype keep theirs.
 */
export class PendingConfirms {
  readonly outcomes: Outcome[];
  #open: number;
  #timer: NodeJS.Timeout | undefined = undefined;
  readonly #sink: ConfirmSink | undefined;
  #resolve: (done: boolean) => void = ignoreDone;
  /** True once every item is answered, false at the deadline (the timer) or when stopped. */
  readonly all: Promise<boolean>;

  constructor(count: number, sink: ConfirmSink | undefined) {
    this.outcomes = new Array(count);
    this.#open = count;
    this.#sink = sink;
    this.all = new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
    });
  }

  get open(): number {
    return this.#open;
  }

  /** Answers item `i` (a later answer for it is dropped: it came after the deadline or close()). */
  settle(i: number, outcome: Outcome): void {
    const outcomes = this.outcomes;
    if (outcomes[i] !== undefined) return;
    outcomes[i] = outcome;
    if (--this.#open === 0) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#resolve(true);
    }
    if (outcome === true) this.#sink?.confirmed(i);
  }

  /** Answers every open item from `from` on with `error`; returns how many. */
  settleRest(from: number, error: SwitchyardError): number {
    let n = 0;
    for (let i = from; i < this.outcomes.length; i++) {
      if (this.outcomes[i] === undefined) {
        this.settle(i, error);
        n++;
      }
    }
    return n;
  }

  /** close(): what is still open fails with `error`. */
  abandon(error: SwitchyardError): number {
    return this.settleRest(0, error);
  }

  /** Ends the wait for the last confirm at `ms` from now (one timer, only while items are open). */
  expireIn(ms: number): void {
    this.#timer = setTimeout(timeUp, ms, this);
  }

  /** The wait for the last confirm ends unanswered: the deadline passed. */
  end(): void {
    this.#resolve(false);
  }
}

const ignoreDone = (_done: boolean): void => {};
/** setTimeout's callback for every batch (the batch is its argument): no closure per batch. */
function timeUp(batch: PendingConfirms): void {
  batch.end();
}

/**
 * Publishes with confirms on a confirm channel it re-creates after a drop. A publish resolves only
 * when the broker confirmed it; messages whose channel died before the confirm are published again
 * on the next channel until `deadline` (at-least-once: the broker may have kept the first copy),
 * then fail UNAVAILABLE (retryable). Channel back-pressure (`publish` returning false) is honoured
 * by waiting for `drain`, and a connection the broker blocked (resource alarm) by waiting for it to
 * be unblocked; every such wait, and the wait for confirms, ends at the deadline: what was not
 * written fails UNAVAILABLE, what was written and not confirmed fails TIMEOUT (both retryable; a
 * retry of the latter may duplicate). Mandatory messages the broker returns (no queue bound) fail
 * as `onReturned` decides.
 */
export class Publisher {
  readonly #manager: ConnectionManager;
  readonly #what: string;
  readonly #prepare: ((channel: Channel) => Promise<void>) | undefined;
  readonly #onReturned: ((item: PublishItem) => SwitchyardError | undefined) | undefined;
  #state: ChannelState | undefined;
  #opening: Promise<ChannelState> | undefined;
  #closed = false;
  readonly #batches = new Set<PendingConfirms>();

  /**
   * `prepare` runs on every new channel (re-declaring topology after a reconnect); `onReturned`
   * decides what a returned mandatory message means: an error for its send, or undefined (sent).
   */
  constructor(
    manager: ConnectionManager,
    what: string,
    prepare?: (channel: Channel) => Promise<void>,
    onReturned?: (item: PublishItem) => SwitchyardError | undefined,
  ) {
    this.#manager = manager;
    this.#what = what;
    this.#prepare = prepare;
    this.#onReturned = onReturned;
  }

  /** The live confirm channel (escape hatch); undefined during an outage. */
  get channel(): ConfirmChannel | undefined {
    return this.#state?.channel;
  }

  async open(deadline: number): Promise<void> {
    await this.#ensure(deadline);
  }

  /**
   * `signal` aborts the wait, whichever comes first of `deadline`: the send's own deadline (what is
   * not confirmed yet fails TIMEOUT) or the producer closing (UNAVAILABLE); never resolves then.
   * `onConfirmed(index)` is called the moment the broker confirms `items[index]` (its entry in the
   * result is then `true`, never an error), so a caller can answer it before the batch ends.
   */
  async publish(
    items: readonly PublishItem[],
    deadline: number,
    signal?: AbortSignal,
    onConfirmed?: ConfirmSink,
  ): Promise<Array<true | SwitchyardError>> {
    const results: Array<true | SwitchyardError> = new Array(items.length);
    // Indexes into `items` still to publish; undefined while that is all of them (the usual case:
    // no index arrays per batch unless a channel died under it).
    let todo: number[] | undefined;
    let lastError: unknown;
    while (todo === undefined || todo.length > 0) {
      if (isAborted(signal)) {
        const e = this.#stopped(signal!);
        fill(results, todo, e);
        break;
      }
      // The live channel, without a promise and an abort race per batch; otherwise wait for one.
      let state = this.#state;
      if (state === undefined) {
        try {
          // A reconnect can take the driver's whole unavailableTimeoutMs; the send may have less.
          state = await untilAborted(this.#ensure(deadline), signal);
        } catch (error) {
          const e = isAborted(signal)
            ? this.#notWritten(
                deadlineReached(signal) ? 'the send reached its deadline' : 'the producer is closing',
              )
            : mapError(error, this.#what);
          fill(results, todo, e);
          return results;
        }
      }
      const current = todo;
      const outcomes = await this.#publishOn(
        state,
        current === undefined ? items : current.map((i) => items[i]!),
        deadline,
        signal,
        current === undefined || onConfirmed === undefined
          ? onConfirmed
          : new RemappedSink(onConfirmed, current),
      );
      const lost: number[] = [];
      for (let j = 0; j < outcomes.length; j++) {
        const outcome = outcomes[j]!;
        const i = current === undefined ? j : current[j]!;
        if (outcome === LOST) lost.push(i);
        else results[i] = outcome;
      }
      todo = lost;
      if (todo.length === 0) break;
      lastError = state.closeError;
      if (Date.now() >= deadline) {
        const e = unavailable(`${this.#what}: not confirmed before the connection dropped`, lastError);
        fill(results, todo, e);
        break;
      }
      // The channel died under us; give the connection manager a moment to notice a dead socket.
      if (this.#state === undefined && this.#manager.current !== undefined) await sleep(20);
    }
    return results;
  }

  /**
   * Rejects every publish still waiting for its confirm (UNAVAILABLE, retryable: the broker may
   * or may not have it) and closes the channel, waiting for the broker until `deadline` (epoch ms);
   * returns how many were left unconfirmed.
   */
  async close(deadline = Date.now() + CLOSE_WAIT_MS): Promise<number> {
    this.#closed = true;
    const error = this.#abandoned('closed');
    let unconfirmed = 0;
    for (const batch of [...this.#batches]) unconfirmed += batch.abandon(error);
    const state = this.#state;
    this.#state = undefined;
    // A blocked connection never answers Channel.Close; the connection's own close ends it.
    if (state !== undefined) await within(state.channel.close(), deadline - Date.now()).catch(() => {});
    return unconfirmed;
  }

  #ensure(deadline: number): Promise<ChannelState> {
    if (this.#closed)
      return Promise.reject(new UnavailableError(`${this.#what} is closed`, { driver: DRIVER }));
    if (this.#state !== undefined) return Promise.resolve(this.#state);
    this.#opening ??= this.#openChannel(deadline).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #openChannel(deadline: number): Promise<ChannelState> {
    for (;;) {
      const { model } = await this.#manager.connection(deadline, this.#what);
      let channel: ConfirmChannel;
      const creating = model.createConfirmChannel();
      try {
        channel = await within(creating, deadline - Date.now());
      } catch (error) {
        // Too late: a channel that opens after all is closed again, not leaked.
        creating.then(
          (late) => late.close().catch(() => {}),
          () => {},
        );
        // The connection is going down; wait for the manager to notice and reconnect.
        if (Date.now() >= deadline) throw mapError(error, this.#what);
        await sleep(20);
        continue;
      }
      const state: ChannelState = { channel, returned: new Map(), closeError: undefined, drained: undefined };
      channel.on('error', (error: unknown) => {
        state.closeError = error;
      });
      channel.on('close', () => {
        if (this.#state === state) this.#state = undefined;
      });
      channel.on('return', (message: { properties: { messageId?: unknown } }) => {
        const id = String(message.properties.messageId ?? '');
        state.returned.set(id, (state.returned.get(id) ?? 0) + 1);
      });
      if (this.#prepare !== undefined) {
        try {
          await within(this.#prepare(channel), deadline - Date.now());
        } catch (error) {
          await channel.close().catch(() => {});
          throw mapError(error, this.#what);
        }
      }
      if (this.#closed) {
        await channel.close().catch(() => {});
        throw new UnavailableError(`${this.#what} is closed`, { driver: DRIVER });
      }
      this.#state = state;
      return state;
    }
  }

  async #publishOn(
    state: ChannelState,
    items: readonly PublishItem[],
    deadline: number,
    signal: AbortSignal | undefined,
    onConfirmed: ConfirmSink | undefined,
  ): Promise<Outcome[]> {
    const { channel } = state;
    // One promise per batch, not per message: confirm callbacks fill its outcomes and count down.
    const batch = new PendingConfirms(items.length, onConfirmed);
    this.#batches.add(batch);
    // Aborting answers every open message, which also ends the waits below. Made per batch, but
    // called at most once (never hot, so never an optimized closure to lose).
    let stop: () => void = () => {};
    const stopped = new Promise<false>((resolve) => {
      stop = () => {
        batch.settleRest(0, this.#stopped(signal));
        resolve(false);
      };
    });
    if (signal !== undefined) onAbortOnce(signal, stop);
    if (isAborted(signal)) stop();
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (this.#state !== state) {
          batch.settle(i, LOST);
          continue;
        }
        if (batch.outcomes[i] !== undefined) break;
        const blocked = this.#manager.blocked;
        if (blocked !== undefined && !(await Promise.race([this.#manager.unblocked(deadline), stopped]))) {
          batch.settleRest(
            i,
            this.#notWritten(`the broker blocked publishing on this connection (${blocked})`),
          );
          break;
        }
        let writable = true;
        try {
          // A large body goes out as frames that point into it, not copies (body-frames.ts):
          // amqplib writes them synchronously, inside this call.
          inPlaceBodies.on = true;
          // amqplib says which publish a confirm is for only through that publish's own callback.
          writable = channel.publish(item.exchange, item.routingKey, item.content, item.options, (error) =>
            this.#answer(batch, state, i, item, error),
          );
        } catch (error) {
          const e = mapError(error, this.#describe(item));
          // A closed channel throws synchronously: publish again on the next one.
          batch.settle(i, e.code === 'UNAVAILABLE' && e.retryable ? LOST : e);
        } finally {
          inPlaceBodies.on = false;
        }
        if (
          !writable &&
          !(await Promise.race([within(drained(state), deadline - Date.now()).then(yes, no), stopped]))
        ) {
          batch.settleRest(i + 1, this.#notWritten('the connection did not drain its write buffer'));
          break;
        }
      }
      if (batch.open > 0) batch.expireIn(Math.max(0, deadline - Date.now()));
      if (!(await batch.all)) {
        batch.settleRest(
          0,
          new TimeoutError(
            `${this.#what}: the broker did not confirm the message in time${this.#manager.blocked === undefined ? '' : ` (publishing is blocked: ${this.#manager.blocked})`}; it may or may not have been stored, send it again to be sure`,
            { driver: DRIVER },
          ),
        );
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      this.#batches.delete(batch);
    }
    return batch.outcomes;
  }

  /** The broker answered item `i` of `batch` (amqplib's confirm callback: null or an error). */
  #answer(batch: PendingConfirms, state: ChannelState, i: number, item: PublishItem, error: unknown): void {
    if (error === null || error === undefined) batch.settle(i, this.#confirmed(state, item));
    else batch.settle(i, this.#failed(state, error, item));
  }

  /** For what is open when the send's signal aborts: its deadline passed, or the producer closes. */
  #stopped(signal: AbortSignal | undefined): SwitchyardError {
    if (!deadlineReached(signal)) return this.#abandoned('the producer is closing');
    return new TimeoutError(
      `${this.#what}: the send reached its deadline before the broker confirmed the message${this.#manager.blocked === undefined ? '' : ` (publishing is blocked: ${this.#manager.blocked})`}; it may or may not have been stored, send it again to be sure`,
      { driver: DRIVER },
    );
  }

  /** For messages written and not confirmed when the wait was given up. */
  #abandoned(why: string): SwitchyardError {
    return new UnavailableError(
      `${this.#what}: ${why} before the broker confirmed the message; it may or may not have been stored, send it again to be sure`,
      { driver: DRIVER },
    );
  }

  /** For messages never written to the socket: sending them again cannot duplicate them. */
  #notWritten(why: string): SwitchyardError {
    return new UnavailableError(`${this.#what}: not sent before the deadline: ${why}`, { driver: DRIVER });
  }

  #confirmed(state: ChannelState, item: PublishItem): Outcome {
    if (item.options.mandatory !== true || state.returned.size === 0) return true;
    // The broker sends basic.return before the confirm of the same message.
    const id = String(item.options.messageId ?? '');
    const count = state.returned.get(id);
    if (count === undefined) return true;
    if (count <= 1) state.returned.delete(id);
    else state.returned.set(id, count - 1);
    return this.#onReturned?.(item) ?? true;
  }

  #failed(state: ChannelState, error: unknown, item: PublishItem): Outcome {
    if (error instanceof Error && /nacked/i.test(error.message)) {
      return new UnavailableError(`${this.#describe(item)}: the broker nacked the message`, {
        driver: DRIVER,
        cause: error,
      });
    }
    // "channel closed": the reason, if the broker closed only this channel, came as an error event.
    if (state.closeError !== undefined) {
      const e = mapError(state.closeError, this.#describe(item));
      if (!e.retryable) return e;
    }
    return LOST;
  }

  static unroutableError(item: PublishItem): SwitchyardError {
    return new NotFoundError(
      `publish to exchange "${item.exchange}": no queue is bound for routing key "${item.routingKey}", so the broker returned the message and it was not stored (open the consumer group first so its queue is bound, or set unroutable: 'warn' if dropping it is intended)`,
      { driver: DRIVER, retryable: false, details: { unroutable: true, exchange: item.exchange } },
    );
  }

  #describe(item: PublishItem): string {
    return item.exchange === ''
      ? `publish to queue "${item.routingKey}"`
      : `publish to exchange "${item.exchange}"`;
  }
}

/** Answers the given indexes of `results`, or all of them when `indexes` is undefined. */
function fill<T>(results: T[], indexes: readonly number[] | undefined, value: T): void {
  if (indexes === undefined) results.fill(value);
  else for (const i of indexes) results[i] = value;
}

const yes = () => true;
const no = () => false;

function drained(state: ChannelState): Promise<void> {
  const { channel } = state;
  state.drained ??= new Promise<void>((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      state.drained = undefined;
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
  return state.drained;
}

// One batch's confirms kept for good (no items): a publisher between bursts holds none, and a
// mark-compact would collect the class's map and the publish path's code with it (core's
// shape-anchor.ts).
anchorShape(new PendingConfirms(0, undefined));
