import {
  ClosedError,
  type DriverProducer,
  type Outgoing,
  type Receipt,
  type Secret,
  UnavailableError,
} from '@switchyard/core/driver';
import type { Api } from './client.js';
import { type BodyMode, encodePayload } from './codec.js';
import { DRIVER } from './errors.js';
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
  }

  get native(): unknown {
    return this.#api.sdk;
  }

  async sendBatch(messages: readonly Outgoing[], signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    if (this.#closed) throw new ClosedError('pulsar-http producer is closed', { driver: DRIVER });
    if (this.#pack > 1 && messages.length > 1) return this.#sendPacked(messages, signal);
    // Every payload is encoded and size-checked before the first request goes out.
    const payloads = messages.map((m) => {
      try {
        return encodePayload(m, this.#mode);
      } catch (error) {
        return error as Error;
      }
    });
    const action = messages.length > 1 ? 'SendBatchMessages' : 'SendMessages';
    return Promise.all(
      messages.map(async (message, i): Promise<Receipt | Error> => {
        const payload = payloads[i] as string | Error;
        if (payload instanceof Error) return payload;
        const sent = await this.#send(action, payload, signal);
        return sent instanceof Error ? sent : { messageId: sent ?? message.id };
      }),
    );
  }

  /** Packs the batch into as few payloads as the size limit allows; each pack is one request. */
  async #sendPacked(messages: readonly Outgoing[], signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    const { packs, errors } = packMessages(messages, this.#pack);
    const results = new Array<Receipt | Error>(messages.length);
    for (const [index, error] of errors) results[index] = error;
    await Promise.all(
      packs.map(async (pack) => {
        const sent = await this.#send('SendMessages', pack.payload, signal);
        pack.members.forEach((index, i) => {
          const message = messages[index] as Outgoing;
          results[index] = sent instanceof Error ? sent : { messageId: sent ? `${sent}/${i}` : message.id };
        });
      }),
    );
    return results;
  }

  /** One request; resolves to the broker's message id (null when it gives none) or the error. */
  async #send(action: string, payload: string, signal?: AbortSignal): Promise<string | null | Error> {
    try {
      const response = await this.#api.call<SendResponse>(
        action,
        {
          Topic: this.#topic.path,
          Payload: payload,
          ...(this.#token ? { StringToken: this.#token.reveal() } : {}),
        },
        signal,
      );
      if (response.ErrorMsg) {
        return new UnavailableError(`${action} to ${this.#topic.path} failed: ${response.ErrorMsg}`, {
          driver: DRIVER,
          details: { action, errorMsg: response.ErrorMsg },
        });
      }
      return response.MessageId || null;
    } catch (error) {
      return error as Error;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
