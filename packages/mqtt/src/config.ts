// Driver configuration, validated with zod so a bad field is named in the error. The password is
// held in core's Secret at once: no error, log or inspect output can show it.

import { parseWithSchema, Secret } from '@switchyard/core/driver';
import { z } from 'zod';

/** Mosquitto's and the MQTT spec's largest packet: 256 MiB less the fixed header. */
export const MQTT_MAX_PAYLOAD = 268_435_455;

const secret = z.union([z.string().min(1, 'must not be empty'), z.instanceof(Secret)]);

export const configSchema = z.strictObject({
  driver: z.literal('mqtt').optional(),
  /** Transport: TCP, TLS, WebSocket, WebSocket over TLS. */
  protocol: z.enum(['mqtt', 'mqtts', 'ws', 'wss']).default('mqtt'),
  host: z.string().min(1).default('localhost'),
  /** Default 1883 (mqtt), 8883 (mqtts), 80 (ws), 443 (wss). */
  port: z.number().int().min(1).max(65_535).optional(),
  /** WebSocket path (ws, wss); Mosquitto and TDMQ serve `/mqtt`. */
  path: z.string().startsWith('/').default('/mqtt'),
  username: z.string().optional(),
  password: secret.optional(),
  /**
   * 5 (MQTT 5: user properties carry headers), 4 (MQTT 3.1.1: the body alone, no headers) or
   * `auto`: MQTT 5, and 3.1.1 when the broker refuses 5 at connect.
   */
  protocolVersion: z.union([z.literal(5), z.literal(4), z.literal('auto')]).default(5),
  /**
   * Client ids are `<prefix><role>-<random>`; TDMQ for MQTT wants ids that start with the
   * instance's client-id rules (see docs/naming.md). At most 23 characters is the only length every
   * broker must accept: the random part is 8 characters.
   */
  clientIdPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_@.:-]*$/, 'must use letters, digits, _ @ . : - only')
    .max(64)
    .default('sy-'),
  /**
   * How long the broker keeps a consumer's session (subscriptions and the messages that arrive)
   * after its connection drops, in seconds: MQTT.js reconnects within it and gets what arrived
   * meanwhile. A graceful close ends the session (after draining it).
   */
  sessionExpirySeconds: z.number().int().min(0).max(4_294_967_295).default(300),
  keepaliveSeconds: z.number().int().min(0).max(65_535).default(30),
  connectTimeoutMs: z.number().int().min(100).default(10_000),
  /** Pause between reconnect attempts. */
  reconnectPeriodMs: z.number().int().min(10).default(1_000),
  /** How long a send waits for a lost connection to come back before failing UNAVAILABLE. */
  unavailableTimeoutMs: z.number().int().min(0).default(15_000),
  /** Largest payload, bytes (the broker's message_size_limit; MQTT's own limit by default). */
  maxMessageBytes: z.number().int().min(1).max(MQTT_MAX_PAYLOAD).default(MQTT_MAX_PAYLOAD),
  /**
   * A QoS 1 message no subscription matched (MQTT 5 PUBACK reason 0x10, "No matching
   * subscribers": the broker dropped it). `warn` (default, MQTT's pub/sub norm) logs it at most once
   * a second per topic and resolves; `error` rejects the send with NOT_FOUND, retryable — the
   * portable layer sends it again until its deadline, which rides out subscribers that are
   * reconnecting (after a broker restart, until they subscribe again); `ignore` resolves silently.
   * MQTT 3.1.1 has no reason codes: a dropped message cannot be told there.
   */
  unroutable: z.enum(['warn', 'error', 'ignore']).default('warn'),
  /**
   * For this long after the producer's connection comes back, a message no subscription matched
   * is sent again (as `error` does) even under `warn`: subscribers reconnecting after the same
   * outage or broker restart may not have subscribed again yet.
   */
  resubscribeGraceMs: z.number().int().min(0).default(10_000),
  /** MQTT 5 message expiry for every message sent, in seconds (a header can set one per message). */
  messageExpirySeconds: z.number().int().min(1).max(4_294_967_295).optional(),
  /** TLS options for mqtts / wss (ca, cert, key, rejectUnauthorized, servername…). */
  tls: z.record(z.string(), z.unknown()).optional(),
});

export type MqttConfigInput = z.input<typeof configSchema>;
export type MqttConfig = z.output<typeof configSchema> & { readonly password?: Secret | undefined };

export function parseConfig(input: unknown, where = 'mqtt config'): MqttConfig {
  const config = parseWithSchema(configSchema, input, where);
  const password = typeof config.password === 'string' ? new Secret(config.password) : config.password;
  return Object.freeze({ ...config, password });
}

export function defaultPort(protocol: MqttConfig['protocol']): number {
  return { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 }[protocol];
}
