// Configuration: a validated object, from a config literal or a `pulsar://` / `pulsar+ssl://` URL.
// The role token becomes a core Secret at once, so no later error, log or inspect can print it.
// The TLS choice follows the URL scheme, as it does in the Pulsar client itself.

import {
  boolParam,
  ConfigError,
  decodeUrlPart,
  intParam,
  parseWithSchema,
  Secret,
} from '@switchyard/core/driver';
import { z } from 'zod';
import { NAME_PART } from './naming.js';
import type { PulsarModule, SubscriptionType } from './native-api.js';

export const SUBSCRIPTION_TYPES = [
  'Shared',
  'KeyShared',
  'Failover',
  'Exclusive',
] as const satisfies readonly SubscriptionType[];

/** Pulsar's default `maxMessageSize` (5 MiB); TDMQ Pulsar's limit is the same. */
export const DEFAULT_MAX_MESSAGE_BYTES = 5 * 1024 * 1024;

const secretish = z.union([z.string().min(1, 'must not be empty'), z.instanceof(Secret)]);
const namePart = z.string().max(128).regex(NAME_PART, 'must be letters, digits, _ - . : = (no "/")');

const configSchema = z.strictObject({
  /** `pulsar://host:6650` or `pulsar+ssl://host:6651` (several hosts: `pulsar://h1:6650,h2:6650`). */
  serviceUrl: z
    .string()
    .regex(
      /^pulsar(\+ssl)?:\/\/[A-Za-z0-9.[\]:_-]+(,[A-Za-z0-9.[\]:_-]+)*\/?$/,
      'must be pulsar://host:port or pulsar+ssl://host:port (no credentials, no path)',
    ),
  /** TDMQ role token (or any Pulsar JWT) for token authentication. */
  token: secretish.optional(),
  /** The tenant of short names: the TDMQ cluster id (`pulsar-xxxxxxxx`); `public` on a stock Pulsar. */
  cluster: namePart.default('public'),
  /** The namespace of short names (TDMQ: the namespace/environment name). */
  namespace: namePart.default('default'),
  /**
   * How consumers of one group share a topic. Shared: any consumer gets any message. KeyShared:
   * one consumer per ordering key, in order. Failover / Exclusive: one active consumer.
   */
  subscriptionType: z.enum(SUBSCRIPTION_TYPES).default('Shared'),
  /** Group concurrent sends into batches on the wire (the client's `batchingEnabled`). */
  batching: z.boolean().default(true),
  batchingMaxPublishDelayMs: z.number().int().min(0).max(60_000).default(10),
  batchingMaxMessages: z.number().int().min(1).max(10_000).default(1_000),
  /** Sends the client queues before failing with RESOURCE_EXHAUSTED (it never blocks). */
  maxPendingMessages: z.number().int().min(1).max(1_000_000).default(10_000),
  sendTimeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
  operationTimeoutSeconds: z.number().int().min(1).max(600).default(30),
  connectionTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Redelivery delay of `nack()` (the client's `nAckRedeliverTimeoutMs`; its own default is 60 s). */
  nackRedeliveryMs: z.number().int().min(100).max(3_600_000).default(1_000),
  /** Largest body accepted before sending; set to the broker's `maxMessageSize`. */
  maxMessageBytes: z
    .number()
    .int()
    .min(1)
    .max(100 * 1024 * 1024)
    .default(DEFAULT_MAX_MESSAGE_BYTES),
  /** CA bundle for pulsar+ssl:// (the client's default is Node's root certificates). */
  tlsTrustCertsFilePath: z.string().min(1).optional(),
  tlsValidateHostname: z.boolean().optional(),
  tlsAllowInsecureConnection: z.boolean().optional(),
  /** Advertised listener name, for clusters that expose several. */
  listenerName: z.string().min(1).optional(),
  /** A loaded pulsar-client module (config object only): tests, or bundlers that import it. */
  pulsarClient: z
    .custom<PulsarModule>(
      (v) => typeof v === 'object' && v !== null && typeof (v as PulsarModule).Client === 'function',
      'must be the pulsar-client module (require("pulsar-client"))',
    )
    .optional(),
});

export type PulsarConfigInput = z.input<typeof configSchema>;

export interface PulsarConfig extends Omit<z.output<typeof configSchema>, 'token'> {
  readonly token: Secret | undefined;
  /** True for pulsar+ssl://. */
  readonly tls: boolean;
}

export function parseConfig(input: unknown): PulsarConfig {
  const c = parseWithSchema(configSchema, input, 'config');
  return Object.freeze({
    ...c,
    token: c.token === undefined ? undefined : Secret.from(c.token),
    tls: c.serviceUrl.startsWith('pulsar+ssl://'),
  });
}

const urlQuerySchema = z.strictObject({
  cluster: z.string().optional(),
  namespace: z.string().optional(),
  subscriptionType: z.string().optional(),
  batching: boolParam.optional(),
  batchingMaxPublishDelayMs: intParam.optional(),
  batchingMaxMessages: intParam.optional(),
  maxPendingMessages: intParam.optional(),
  sendTimeoutMs: intParam.optional(),
  operationTimeoutSeconds: intParam.optional(),
  connectionTimeoutMs: intParam.optional(),
  nackRedeliveryMs: intParam.optional(),
  maxMessageBytes: intParam.optional(),
  tlsTrustCertsFilePath: z.string().optional(),
  tlsValidateHostname: boolParam.optional(),
  tlsAllowInsecureConnection: boolParam.optional(),
  listenerName: z.string().optional(),
});

/**
 * `pulsar://[token:ROLE_TOKEN@]host[:6650]?cluster=pulsar-xxx&namespace=ns` (`pulsar+ssl://`,
 * port 6651 by default, for TLS). The role token is the userinfo password (the user name is
 * ignored; `token` by convention), or the user name when there is no password.
 */
export function fromUrl(url: URL): PulsarConfig {
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'pulsar' && scheme !== 'pulsar+ssl') {
    throw new ConfigError(`pulsar URL: scheme must be pulsar:// or pulsar+ssl://, got ${scheme}://`, {
      details: { fields: ['url.scheme'] },
    });
  }
  if (url.hostname === '') {
    throw new ConfigError('pulsar URL: a host is required, e.g. pulsar://localhost:6650', {
      details: { fields: ['url.host'] },
    });
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new ConfigError(
      'pulsar URL: no path is allowed; put the cluster and namespace in ?cluster=…&namespace=…',
      { details: { fields: ['url.path'] } },
    );
  }
  const repeated = [...new Set(url.searchParams.keys())].find((k) => url.searchParams.getAll(k).length > 1);
  if (repeated !== undefined) {
    throw new ConfigError(`pulsar URL: query parameter ${repeated} is given twice`, {
      details: { fields: [`url.${repeated}`] },
    });
  }
  const query = parseWithSchema(urlQuerySchema, Object.fromEntries(url.searchParams), 'pulsar URL query');
  const user = decodeUrlPart(url.username, 'user');
  const password = decodeUrlPart(url.password, 'password (role token)');
  const token = password !== '' ? password : user;
  const port = url.port !== '' ? url.port : scheme === 'pulsar+ssl' ? '6651' : '6650';
  return parseConfig({
    ...Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)),
    serviceUrl: `${scheme}://${url.hostname}:${port}`,
    ...(token === '' ? {} : { token: new Secret(token) }),
  });
}
