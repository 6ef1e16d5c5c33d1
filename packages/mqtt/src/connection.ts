import { randomBytes } from 'node:crypto';
import type { DriverContext } from '@switchyard/core/driver';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { defaultPort, type MqttConfig } from './config.js';
import { DRIVER, mapError } from './errors.js';

export interface ClientSpec {
  readonly clientId: string;
  readonly version: 4 | 5;
  /** Keep the session when the connection drops (consumers), or start clean (the producer). */
  readonly persistent: boolean;
  /** MQTT 5 Receive Maximum: unacknowledged QoS 1 messages the broker may send at once. */
  readonly receiveMaximum?: number;
  readonly role: string;
  /** Nagle's algorithm off on the socket (see sendPromptly): consumers, not the publishing connection. */
  readonly noDelay?: boolean;
}

/** `<prefix><role>-<8 random chars>`, the role cut so the whole id stays within 23 characters where it can. */
export function newClientId(prefix: string, role: string): string {
  const room = Math.max(1, 23 - prefix.length - 9);
  const safe = role.replace(/[^A-Za-z0-9_-]/g, '').slice(0, room) || 'c';
  return `${prefix}${safe}-${randomBytes(6).toString('base64url').slice(0, 8)}`;
}

/** MQTT.js's logger when DEBUG is unset (see clientOptions). */
const silent = (): void => {};

export function clientOptions(config: MqttConfig, spec: ClientSpec): IClientOptions {
  const v5 = spec.version === 5;
  return {
    protocol: config.protocol,
    host: config.host,
    port: config.port ?? defaultPort(config.protocol),
    ...(config.protocol === 'ws' || config.protocol === 'wss' ? { path: config.path } : {}),
    clientId: spec.clientId,
    protocolVersion: spec.version,
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password.reveal() }),
    keepalive: config.keepaliveSeconds,
    connectTimeout: config.connectTimeoutMs,
    reconnectPeriod: config.reconnectPeriodMs,
    // A refused CONNACK (bad password, banned) is final: reconnecting would only repeat it.
    reconnectOnConnackError: false,
    clean: !spec.persistent,
    // MQTT.js calls its logger ≈ 20 times per QoS 1 publish and its PUBACK, and its default logger
    // (the `debug` package) builds an array of the arguments on every call, printing or not: a
    // 256 B publish allocated ≈ 16 KB with it, ≈ 13 KB without (issue 18). With DEBUG set,
    // MQTT.js keeps its own logger, so DEBUG=mqttjs* works as documented.
    ...(process.env.DEBUG ? {} : { log: silent }),
    // MQTT.js's reschedulePings stays on although every PUBACK then clears and sets the keep-alive
    // interval again (≈ 450 B per message): off, a PINGREQ queued behind more than half a
    // keepalive period of unsent PUBLISHes (large bodies, a slow link) would time out a live
    // connection, which PUBACKs arriving now keep alive (issue 18, tried and not kept).
    ...(v5
      ? {
          properties: {
            ...(spec.persistent ? { sessionExpiryInterval: config.sessionExpirySeconds } : {}),
            ...(spec.receiveMaximum === undefined ? {} : { receiveMaximum: spec.receiveMaximum }),
          },
        }
      : {}),
    ...(config.tls ?? {}),
  } as IClientOptions;
}

/** Connects, resolving on the first CONNACK, rejecting with a portable error on refusal or timeout. */
export function openClient(
  config: MqttConfig,
  spec: ClientSpec,
  context: DriverContext,
  what: string,
  setup?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const client = mqtt.connect(clientOptions(config, spec));
  // On every connection, reconnects included (each builds a new socket); before setup's listeners,
  // so a consumer's SUBSCRIBE after a reconnect already goes out unheld.
  if (spec.noDelay === true) client.on('connect', () => sendPromptly(client));
  // Before the first CONNACK: a resumed session's messages may follow it in the same read.
  setup?.(client);
  return new Promise<MqttClient>((resolve, reject) => {
    const fail = (error: unknown) => {
      cleanup();
      client.end(true);
      reject(mapError(error, what, spec.version, true));
    };
    // MQTT.js retries a refused TCP connection forever: give up after the connect timeout.
    const timer = setTimeout(
      () => fail(Object.assign(new Error('no CONNACK within connectTimeoutMs'), { code: 'ETIMEDOUT' })),
      config.connectTimeoutMs + 500,
    );
    const onConnect = () => {
      cleanup();
      watch(client, spec, context);
      resolve(client);
    };
    const onError = (error: Error) => {
      const code = (error as { code?: unknown }).code;
      // Socket errors come again on every retry until the timer gives up; a CONNACK refusal is final.
      if (typeof code === 'number') fail(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

/**
 * Switches Nagle's algorithm off on the client's socket (TCP_NODELAY), which MQTT.js leaves on. With
 * it on, a small packet written while an earlier one is unacknowledged waits for that ACK, and a
 * broker with nothing to send back delays its ACK (40 ms on Linux). A consumer's PUBACKs get no
 * answer, so the first request after them — the SUBSCRIBE and drain markers of its close, a nack's
 * copy — waited ≈ 40 ms (a consumer's close took ≈ 45 ms instead of ≈ 4; issue 18). The publishing
 * connection keeps Nagle: its PUBLISHes are answered by PUBACKs, so they do not wait, and without it
 * every write is a packet of its own (≈ 8 % more client CPU per 256 B publish, measured).
 * WebSocket streams have no such switch and are left as they are.
 */
function sendPromptly(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (noDelay: boolean) => unknown } | undefined;
  if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(true);
}

/** Reports the client's connection changes as status events, once it has connected the first time. */
function watch(client: MqttClient, spec: ClientSpec, context: DriverContext): void {
  let attempt = 0;
  client.on('reconnect', () => context.status({ type: 'reconnecting', driver: DRIVER, attempt: ++attempt }));
  client.on('connect', () => {
    attempt = 0;
    context.status({ type: 'connected', driver: DRIVER, detail: spec.clientId });
  });
  client.on('error', (error) =>
    context.logger.warn({ clientId: spec.clientId, error: error.message }, 'mqtt: client error'),
  );
}

/**
 * Ends an MQTT 3.1.1 session, which has no expiry of its own: the broker discards a session when
 * its client id connects with a clean session, and a clean session ends with its connection. So a
 * clean connection under the id, then a DISCONNECT. False when the broker could not be reached
 * before `deadline` (the session stays until a consumer resumes it or the broker expires it).
 */
export async function endSession311(
  config: MqttConfig,
  clientId: string,
  deadline: number,
): Promise<boolean> {
  const client = mqtt.connect({
    ...clientOptions(config, { clientId, version: 4, persistent: false, role: 'end' }),
    reconnectPeriod: 0,
  });
  let timer: NodeJS.Timeout | undefined;
  const connected = await new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    client.once('connect', () => resolve(true));
    client.once('error', () => resolve(false));
    client.once('close', () => resolve(false));
  });
  clearTimeout(timer);
  await endClient(client, deadline, undefined);
  return connected;
}

/** Ends the client, waiting at most until `deadline`; past it the socket is dropped. */
export async function endClient(
  client: MqttClient,
  deadline: number,
  disconnect: { sessionExpiryInterval?: number } | undefined,
): Promise<void> {
  const left = deadline - Date.now();
  if (left <= 0 || !client.connected) {
    client.end(true);
    return;
  }
  const ended = new Promise<void>((resolve) =>
    client.end(false, disconnect === undefined ? {} : { reasonCode: 0, properties: disconnect }, () =>
      resolve(),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, left);
  });
  await Promise.race([ended, late]);
  clearTimeout(timer);
  if (!client.disconnected) client.end(true);
}
