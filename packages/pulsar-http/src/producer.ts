import {
  anchorShape,
  ClosedError,
  type DriverProducer,
  type Outgoing,
  type Receipt,
  type Secret,
  UnavailableError,
} from '@switchyard/core/driver';
import type { Api } from './client.js';
import { type BodyMode, encodePayload } from './codec.js';
import { DRIVER, mapError } from './errors.js';
import type { TopicName } from './naming.js';
import { packMessages } from './pack.js';

interface SendResponse {
  MessageId?: string | null;
  ErrorMsg?: string | null;
}

/**
 * Sends each message as its own request (the API takes one payload per call), all of a batch at
 * once: the broker-wide limiter bounds how many are in flight, so throughput comes from
 * pipelining on keep-alive connections. A batch of several uses SendBatchMessages, which lets the
 * TDMQ gateway pack concurrent calls into one Pulsar batch; a lone message uses SendMessages.
 */
export class PulsarHttpProducer implements DriverProducer {
  readonly #api: Api;
  readonly #topic: TopicName;
  readonly #mode: BodyMode;
  readonly #token: Secret | undefined;
  #closed = false;

  readonly #pack: number;

  constructor(api: Api, topic: TopicName, mode: BodyMode, token: Secret | undefined, pack: number) {
    this.#api = api;
    this.#pack = pack;
    this.#topic = topic;
    this.#mode = mode;
    this.#token = token;
    // Written twice so the field is mutable from the first producer on: the first close() in the
    // process otherwise turned it from const to mutable, and V8 threw away core's optimised
    // sendAttempts, which inlines sendBatch's read of it (docs/bench-profiles.md §19.1).
    this.#closed = true;
    this.#closed = false;
  }

  get native(): unknown {
    return this.#api.sdk;
  }

  // Not async: each path returns its own promise. An async wrapper returning another promise was
  // a second promise, frame and two extra microtask hops per batch (per send, one at a time).
  sendBatch(messages: readonly Outgoing[], signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    if (this.#closed) {
      return Promise.reject(new ClosedError('pulsar-http producer is closed', { driver: DRIVER }));
    }
    if (this.#pack > 1 && messages.length > 1) return this.#sendPacked(messages, signal);
    if (messages.length === 1) return this.#sendOne(messages[0] as Outgoing, signal);
    return this.#sendEach(messages, signal);
  }

  /** Several messages, one request each. */
  async #sendEach(messages: readonly Outgoing[], signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    // Every payload is encoded and size-checked before the first request goes out.
    // Loops, not forEach over arrows made per batch: V8 kept those arrows' optimized code only while
    // a batch was under way, and a GC between bursts dropped it (docs/bench-profiles.md §28.3).
    const results = new Array<Receipt | Error>(messages.length);
    const payloads: string[] = [];
    const sent: number[] = [];
    for (let i = 0; i < messages.length; i++) {
      try {
        payloads.push(encodePayload(messages[i] as Outgoing, this.#mode));
        sent.push(i);
      } catch (error) {
        results[i] = error as Error;
      }
    }
    const action = messages.length > 1 ? 'SendBatchMessages' : 'SendMessages';
    const responses = await this.#send(action, payloads, signal);
    for (let k = 0; k < responses.length; k++) {
      const i = sent[k] as number;
      const response = responses[k] as string | null | Error;
      results[i] =
        response instanceof Error ? response : { messageId: response ?? (messages[i] as Outgoing).id };
    }
    return results;
  }

  /**
   * A batch of one (a lone send): one SendMessages call, without the per-batch arrays, index
   * closures and Limiter group of #send. The same request, limit and results as #send gives.
   * When the request can start at once (Api.startAlone: a free slot, a fresh fixed credential),
   * one reaction on the SDK's promise frees the slot and makes the receipt; a reaction on
   * Api.call's promise and another here were two promises and two microtask turns per send.
   */
  #sendOne(message: Outgoing, signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    let payload: string;
    try {
      payload = encodePayload(message, this.#mode);
    } catch (error) {
      return Promise.resolve([error as Error]);
    }
    const topic = this.#topic.path;
    const token = this.#token;
    const request = token
      ? { Topic: topic, Payload: payload, StringToken: token.reveal() }
      : { Topic: topic, Payload: payload };
    const api = this.#api;
    const started = api.startAlone<SendResponse>('SendMessages', request, signal);
    if (started !== undefined)
      return started.then((response): Array<Receipt | Error> => {
        api.release();
        return receiptsOf(response, topic, message);
      }, this.#failedStarted);
    return api
      .call<SendResponse>('SendMessages', request, signal)
      .then((response): Array<Receipt | Error> => receiptsOf(response, topic, message), failedAlone);
  }

  /** A lone send started by Api.startAlone failed: its slot freed, its mapped error as its result. */
  readonly #failedStarted = (error: unknown): Array<Receipt | Error> => {
    this.#api.release();
    return [mapError(error, 'SendMessages')];
  };

  /** Packs the batch into as few payloads as the size limit allows; each pack is one request. */
  async #sendPacked(messages: readonly Outgoing[], signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    const { packs, errors } = packMessages(messages, this.#pack);
    const results = new Array<Receipt | Error>(messages.length);
    for (const [index, error] of errors) results[index] = error;
    const responses = await this.#send(
      'SendMessages',
      packs.map((pack) => pack.payload),
      signal,
    );
    packs.forEach((pack, p) => {
      const sent = responses[p] as string | null | Error;
      pack.members.forEach((index, i) => {
        const message = messages[index] as Outgoing;
        results[index] = sent instanceof Error ? sent : { messageId: sent ? `${sent}/${i}` : message.id };
      });
    });
    return results;
  }

  /**
   * One request per payload, pipelined within the broker-wide bound; resolves to each one's broker
   * message id (null when it gives none) or its error, by index.
   */
  async #send(
    action: string,
    payloads: readonly string[],
    signal?: AbortSignal,
  ): Promise<Array<string | null | Error>> {
    const topic = this.#topic.path;
    const requests = new SendRequests(topic, this.#token, payloads);
    const responses = await this.#api.callEach<SendResponse>(
      payloads.length,
      action,
      requests.at.bind(requests),
      signal,
    );
    const ids = new Array<string | null | Error>(responses.length);
    for (let i = 0; i < responses.length; i++) {
      const response = responses[i] as SendResponse | Error;
      ids[i] =
        response instanceof Error
          ? response
          : response.ErrorMsg
            ? sendFailed(action, topic, response.ErrorMsg)
            : response.MessageId || null;
    }
    return ids;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * A batch's SendMessages requests, each built when its call starts. The limiter calls `at` bound
 * to the batch: a method, whose optimized code outlives the batch, where an arrow made per batch
 * lost it at the first GC after the burst (docs/bench-profiles.md §28.3).
 */
class SendRequests {
  readonly #topic: string;
  readonly #token: Secret | undefined;
  readonly #payloads: readonly string[];

  constructor(topic: string, token: Secret | undefined, payloads: readonly string[]) {
    this.#topic = topic;
    this.#token = token;
    this.#payloads = payloads;
  }

  at(index: number): object {
    const token = this.#token;
    return token
      ? { Topic: this.#topic, Payload: this.#payloads[index], StringToken: token.reveal() }
      : { Topic: this.#topic, Payload: this.#payloads[index] };
  }
}

/** A lone send's failure as its results (one function for all: an arrow per send was a closure). */
const failedAlone = (error: unknown): Array<Receipt | Error> => [error as Error];

/** A lone SendMessages' answer as its results: the broker's message id, else the message's own. */
function receiptsOf(response: SendResponse, topic: string, message: Outgoing): Array<Receipt | Error> {
  return response.ErrorMsg
    ? [sendFailed('SendMessages', topic, response.ErrorMsg)]
    : [{ messageId: response.MessageId || message.id }];
}

/** A send the API answered with an ErrorMsg instead of a message id. */
function sendFailed(action: string, topic: string, errorMsg: string): UnavailableError {
  return new UnavailableError(`${action} to ${topic} failed: ${errorMsg}`, {
    driver: DRIVER,
    details: { action, errorMsg },
  });
}

// Kept for good, as core's shape-anchor.ts explains: no batch is in flight between bursts.
anchorShape(new SendRequests('', undefined, []));
