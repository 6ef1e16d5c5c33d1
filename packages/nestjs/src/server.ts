import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import type { Consumer, Message, OutgoingMessage, StatusListener } from '@switchyard/core';
import { lastValueFrom } from 'rxjs';
import { destinationOf, type HeldBroker, openBroker } from './broker-source.js';
import { decodeData, encodeError, encodeResponse } from './codec.js';
import { SwitchyardContext } from './context.js';
import type { SwitchyardServerOptions } from './options.js';

/** The transport id Nest reports for Switchyard handlers (interceptors, hooks). */
export const SWITCHYARD_TRANSPORT = Symbol('switchyard');

/** One destination's patterns: at most one request handler and an event handler (chain). */
interface Route {
  readonly pattern: string;
  readonly request: MessageHandler | undefined;
  readonly event: MessageHandler | undefined;
}

/**
 * A Nest custom transport strategy over Switchyard. Each `@MessagePattern('orders.total')` and
 * `@EventPattern('orders.placed')` names a Switchyard destination (or one mapped in
 * `destinations`); the server opens one consumer per destination in its group and hands each
 * message to the handler: a message carrying a reply address (sent by `ClientProxy.send`,
 * `producer.request()` or any client with a reply_to) goes to the @MessagePattern handler, whose
 * result or error is sent back with `broker.reply()`; any other message goes to the @EventPattern
 * handler. With `noAck: true` (default) the message is acked when the handler finished and nacked
 * (redelivered with backoff, dead-lettered after maxDeliveries) when it threw; with `noAck: false`
 * an event handler settles its message through the context, and a request is acked once its reply
 * is sent (unless the handler settled it first).
 */
export class SwitchyardServer
  extends Server<Record<string, StatusListener>>
  implements CustomTransportStrategy
{
  override readonly transportId = SWITCHYARD_TRANSPORT;
  readonly #options: SwitchyardServerOptions;
  #held: HeldBroker | undefined;
  readonly #consumers: Consumer[] = [];
  readonly #runs: Array<Promise<void>> = [];
  readonly #listeners: Array<{ event: string; callback: StatusListener }> = [];
  #offStatus: (() => void) | undefined;

  constructor(options: SwitchyardServerOptions) {
    super();
    this.#options = options;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const held = await openBroker(this.#options);
      this.#held = held;
      this.#offStatus = held.broker.onStatus((event) => {
        for (const { event: name, callback: listener } of this.#listeners)
          if (name === event.type || name === 'status') listener(event);
      });
      const { group = 'nestjs' } = this.#options;
      for (const [destination, route] of this.#routes()) {
        const consumer = await held.broker.consumer(destination, {
          ...this.#options.consumer,
          group: typeof group === 'function' ? group(destination) : group,
        });
        this.#consumers.push(consumer);
        this.#runs.push(this.#consume(consumer, route));
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops every consumer after its handlers finished (drain), then closes a broker it opened. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#consumers.map((c) => c.close()));
    await Promise.allSettled(this.#runs);
    this.#consumers.length = 0;
    this.#runs.length = 0;
    this.#offStatus?.();
    const held = this.#held;
    this.#held = undefined;
    if (held?.owned) await held.broker.close();
  }

  /** Broker status events by type ('connected', 'reconnecting', 'blocked', 'closed'), or 'status' for all. */
  on(event: string, callback: StatusListener): void {
    this.#listeners.push({ event, callback });
  }

  /** The Switchyard Broker. */
  unwrap<T>(): T {
    if (this.#held === undefined) throw new Error('the Switchyard server is not listening yet');
    return this.#held.broker as T;
  }

  #routes(): Map<string, Route> {
    const routes = new Map<string, Route>();
    for (const [pattern, handler] of this.messageHandlers) {
      const destination = destinationOf(pattern, this.#options.destinations);
      const route = routes.get(destination) ?? { pattern, request: undefined, event: undefined };
      routes.set(
        destination,
        handler.isEventHandler ? { ...route, event: route.event ?? handler } : { ...route, request: handler },
      );
    }
    return routes;
  }

  async #consume(consumer: Consumer, route: Route): Promise<void> {
    if (this.#options.noAck ?? true) {
      await consumer.run((message) => this.#handle(message, route));
      return;
    }
    // Manual settling: the handler owns the message, so it is not awaited here; prefetch bounds
    // how many are out at once (unsettled messages count against it).
    for await (const message of consumer) {
      this.#handle(message, route).catch((error: unknown) => {
        this.logger.error(`Switchyard handler for "${route.pattern}" failed: ${(error as Error).message}`);
      });
    }
  }

  async #handle(message: Message, route: Route): Promise<void> {
    const context = new SwitchyardContext([message, route.pattern]);
    const isRequest = message.headers['reply-to'] !== undefined;
    if (isRequest && route.request !== undefined) {
      let reply: OutgoingMessage;
      try {
        const result = await route.request(decodeData(message), context);
        reply = encodeResponse(
          await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined }),
        );
      } catch (error) {
        // The caller gets the error (as Nest's other transports send it); the request is done.
        reply = encodeError(error);
      }
      await this.#held!.broker.reply(message, reply);
      // Answered is done, in either ack mode (run() acks it too where noAck is true): a request
      // left unsettled would come back and be answered again. A handler may have settled it first.
      await message.ack();
      return;
    }
    const handler = route.event ?? route.request;
    if (handler === undefined) return;
    if (isRequest) {
      this.logger.warn(
        `a request came to "${route.pattern}", which has no @MessagePattern handler: no reply is sent`,
      );
    }
    const result = await handler(decodeData(message), context);
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }
}
