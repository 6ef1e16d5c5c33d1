// Request-reply on MQTT 5: a request carries its reply address in the PUBLISH's Response Topic and
// its correlation id in Correlation Data (properties.ts), so any MQTT 5 client can answer it. The
// reply inbox is a per-process topic nobody else subscribes to; topics need no creation, so there
// is nothing to delete on close but the subscription.

import { randomBytes } from 'node:crypto';
import {
  type Delivery,
  type DriverCloseOptions,
  type DriverReplyInbox,
  type Logger,
  type ProbeDetails,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core/driver';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { watchClient } from './client-watch.js';
import { DRIVER, mapError } from './errors.js';
import { toDelivery } from './properties.js';

/** Where reply inboxes live; one level per inbox, so an ACL can grant `sy-reply/#` alone. */
export const REPLY_TOPIC_PREFIX = 'sy-reply';
/** Where health probes publish; no one subscribes, the broker only acknowledges. */
export const PROBE_TOPIC_PREFIX = 'sy-probe';

/**
 * The reply inbox, on the driver's publishing connection: a QoS 1, non-shared subscription to
 * `sy-reply/<random>`. That connection starts clean, so MQTT.js subscribes again after a
 * reconnect; replies published while it was down are lost (no session keeps them) and their
 * requests time out, as on RabbitMQ's direct reply-to.
 */
export class MqttReplyInbox implements DriverReplyInbox {
  readonly address = `${REPLY_TOPIC_PREFIX}/${randomBytes(12).toString('hex')}`;
  readonly #client: MqttClient;
  readonly #logger: Logger;
  readonly #onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => void;
  #closing: Promise<void> | undefined;

  constructor(client: MqttClient, onReply: (delivery: Delivery) => void, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
    this.#onMessage = (topic, _payload, packet) => {
      // MQTT.js acknowledged it already: a reply is taken at most once.
      if (topic === this.address) onReply(toDelivery(packet, undefined, 'native'));
    };
  }

  get native(): MqttClient {
    return this.#client;
  }

  /** Subscribes; rejects with the portable error when the broker refuses the topic. */
  async open(): Promise<void> {
    const what = `subscribe the reply inbox "${this.address}"`;
    this.#client.on('message', this.#onMessage);
    try {
      const granted = await this.#client.subscribeAsync(this.address, { qos: 1 });
      const refused = granted.find((g) => g.qos > 2);
      if (refused !== undefined) {
        throw Object.assign(new Error(`SUBACK refused ${refused.topic}`), { code: refused.qos });
      }
    } catch (error) {
      this.#client.off('message', this.#onMessage);
      throw mapError(error, what, 5);
    }
  }

  close(options?: DriverCloseOptions): Promise<void> {
    this.#closing ??= (async () => {
      this.#client.off('message', this.#onMessage);
      // Unsubscribing also drops the topic from what MQTT.js subscribes again after a reconnect.
      const unsubscribe = this.#client.unsubscribeAsync(this.address);
      unsubscribe.catch(() => {});
      if (!this.#client.connected) return;
      const left = Math.max(0, (options?.deadline ?? Date.now() + 5_000) - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      });
      await Promise.race([unsubscribe, late])
        .catch((error: unknown) =>
          this.#logger.warn({ error, address: this.address }, 'reply inbox: unsubscribe failed'),
        )
        .finally(() => clearTimeout(timer));
    })();
    return this.#closing;
  }
}

/**
 * The health probe: the connection must be up, and a QoS 1 publish to this client's private probe
 * topic must come back acknowledged (MQTT.js does not expose PINGREQ). A PUBACK that refuses the
 * topic (an ACL) still shows the broker answered now.
 */
export async function probeMqtt(client: MqttClient, signal: AbortSignal): Promise<ProbeDetails> {
  if (!client.connected) {
    throw new UnavailableError(
      'health probe: the MQTT connection is down; the client is reconnecting (see the status events)',
      { driver: DRIVER },
    );
  }
  const watch = watchClient(client);
  const topic = `${PROBE_TOPIC_PREFIX}/${client.options.clientId}`;
  const publish = client.publishAsync(topic, Buffer.alloc(0), { qos: 1 }).then(
    (packet) => {
      // No subscriber matched (PUBACK 0x10): forget it, or a producer reusing the packet id
      // would take its own publish for unroutable.
      const id = (packet as { messageId?: number } | undefined)?.messageId;
      if (id !== undefined) watch.unmatched.delete(id);
      return 'accepted';
    },
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') return `refused 0x${code.toString(16)}`;
      throw mapError(error, 'health probe: publish to the probe topic');
    },
  );
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(
        signal.reason instanceof Error
          ? signal.reason
          : new TimeoutError('health probe: cancelled before the broker acknowledged', { driver: DRIVER }),
      );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const puback = await Promise.race([publish, aborted]);
    return { connected: true, puback };
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
