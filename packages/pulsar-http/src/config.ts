import {
  boolParam as bool,
  ConfigError,
  type CredentialSource,
  credentialSourceSchema,
  decodeUrlPart,
  intParam as int,
  parseWithSchema,
  queryToObject,
  Secret,
} from '@switchyard/core/driver';
import { z } from 'zod';
import { defaultNackMode, type NackMode } from './capabilities.js';

export const DEFAULT_ENDPOINT = 'tdmq.tencentcloudapi.com';

const secret = z.union([z.string().min(1), z.instanceof(Secret)]).transform((v) => Secret.from(v));

const configSchema = z.strictObject({
  /** Tencent Cloud region, e.g. ap-guangzhou (the API requires one). */
  region: z.string().regex(/^[a-z0-9-]{2,40}$/, 'must look like ap-guangzhou'),
  /** API key id; defaults to $TENCENTCLOUD_SECRET_ID. */
  secretId: secret.optional(),
  /** API key secret; defaults to $TENCENTCLOUD_SECRET_KEY. */
  secretKey: secret.optional(),
  /** Temporary-credential session token (X-TC-Token); defaults to $TENCENTCLOUD_SESSION_TOKEN. */
  sessionToken: secret.optional(),
  /**
   * Instead of secretId/secretKey/sessionToken: where they come from and how they are refreshed
   * (id = SecretId, secret = SecretKey, token = session token; docs/credentials.md).
   */
  credentials: credentialSourceSchema.optional(),
  /** TDMQ Pulsar cluster id (pulsar-xxxxxxxx); the tenant in `cluster/namespace/topic`. */
  cluster: z.string().min(1).max(64).optional(),
  /** Namespace (EnvironmentId) for short names. */
  namespace: z.string().min(1).max(64).default('default'),
  /**
   * Pulsar role token sent as StringToken on SendMessages / SendBatchMessages (the only messaging
   * actions that take one; receive and ack are authorised by the signing account).
   */
  token: secret.optional(),
  /** host[:port] of the API; scheme by `protocol`. */
  endpoint: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port, no scheme')
    .default(DEFAULT_ENDPOINT),
  protocol: z.enum(['https', 'http']).default('https'),
  /** raw: the body is the payload, text only; envelope: headers, key and binary in a JSON envelope. */
  mode: z.enum(['raw', 'envelope']).default('raw'),
  /**
   * Envelope mode only: pack up to this many messages of one send batch into one Pulsar message
   * (one request per pack for sends and acks). 1 = off: one Pulsar message per message.
   */
  pack: z.number().int().min(1).max(1_000).default(1),
  /**
   * What nack() and an expired visibility timeout do. `ack-timeout` (default): nothing is copied;
   * the message stays un-acked on its subscription and the topic's AckTimeOut brings it back,
   * to any consumer of the subscription, Switchyard or not. `retry-topic` (opt-in): a copy in an
   * envelope goes to the group's `<topic>-<group>-RETRY` topic and the original is acked: fast
   * nack with delay and a per-consumer visibility timeout, but only Switchyard consumers of this
   * group ever see the copy (see README, "Nack modes"). Default: `ack-timeout`, or `retry-topic`
   * with `pack` > 1 (see defaultNackMode).
   */
  nackMode: z.enum(['ack-timeout', 'retry-topic']).optional(),
  /** Create missing topics (partitioned), subscriptions and retry topics. */
  manageTopology: z.boolean().default(true),
  /** Partitions of topics the driver creates (ReceiveMessage needs a partitioned topic). */
  partitions: z.number().int().min(1).max(32).default(2),
  /** Requests in flight at once per broker (sends, acks); also the keep-alive pool size. */
  maxConcurrency: z.number().int().min(1).max(1024).default(32),
  /** Longest server-side wait of one batch ReceiveMessage (its Timeout), ms. */
  receiveWaitMs: z.number().int().min(1).max(30_000).default(500),
  /**
   * auto: long-poll one message while the topic is idle, then batch (low latency, batches under
   * load); batch: always batch ReceiveMessage (a lone message waits out `receiveWaitMs`); single:
   * one message per call. Batch reads fall back to single when a `###` split is ambiguous.
   */
  receiveMode: z.enum(['auto', 'batch', 'single']).default('auto'),
  /** Per-request timeout, ms (the SDK's reqTimeout, rounded up to seconds). */
  requestTimeoutMs: z.number().int().min(1_000).max(300_000).default(30_000),
  /** A ready http(s).Agent; default: a keep-alive agent the driver owns (never $http_proxy). */
  agent: z.custom<object>((v) => typeof v === 'object' && v !== null, 'must be an http.Agent').optional(),
});

export type PulsarHttpConfigInput = z.input<typeof configSchema>;
export interface PulsarHttpConfig
  extends Omit<z.output<typeof configSchema>, 'secretId' | 'secretKey' | 'nackMode' | 'credentials'> {
  /** The inline or environment keys; undefined when `credentials` names a source. */
  readonly secretId: Secret | undefined;
  readonly secretKey: Secret | undefined;
  readonly nackMode: NackMode;
  /** Where the API key comes from: the `credentials` given, or the inline/environment keys. */
  readonly credentials: CredentialSource;
}

const urlSchema = z.strictObject({
  region: z.string().optional(),
  cluster: z.string().optional(),
  namespace: z.string().optional(),
  secretId: z.string().optional(),
  secretKey: z.string().optional(),
  token: z.string().optional(),
  mode: z.string().optional(),
  manageTopology: bool.optional(),
  partitions: int.optional(),
  maxConcurrency: int.optional(),
  receiveWaitMs: int.optional(),
  receiveMode: z.string().optional(),
  requestTimeoutMs: int.optional(),
  pack: int.optional(),
  nackMode: z.string().optional(),
});

/** Validates a config object; credentials fall back to the SDK's environment variables. */
export function parseConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): PulsarHttpConfig {
  const parsed = parseWithSchema(configSchema, input, 'config');
  checkPack(parsed.pack, parsed.mode);
  if (parsed.credentials !== undefined) {
    const inline = (['secretId', 'secretKey', 'sessionToken'] as const).filter(
      (f) => parsed[f] !== undefined,
    );
    if (inline.length > 0) {
      throw new ConfigError(
        `invalid config: give config.credentials or ${inline.map((f) => `config.${f}`).join(', ')}, not both`,
        { details: { fields: inline.map((f) => `config.${f}`) } },
      );
    }
    return {
      ...parsed,
      secretId: undefined,
      secretKey: undefined,
      credentials: parsed.credentials,
      nackMode: parsed.nackMode ?? defaultNackMode(parsed.pack),
    };
  }
  const secretId = parsed.secretId ?? fromEnv(env.TENCENTCLOUD_SECRET_ID);
  const secretKey = parsed.secretKey ?? fromEnv(env.TENCENTCLOUD_SECRET_KEY);
  const missing = [secretId ? undefined : 'secretId', secretKey ? undefined : 'secretKey'].filter(Boolean);
  if (secretId === undefined || secretKey === undefined) {
    throw new ConfigError(
      `invalid config: ${missing.map((f) => `config.${f}`).join(', ')} missing; pass them or set TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY`,
      { details: { fields: missing.map((f) => `config.${f}`) } },
    );
  }
  const sessionToken = parsed.sessionToken ?? fromEnv(env.TENCENTCLOUD_SESSION_TOKEN);
  return {
    ...parsed,
    secretId,
    secretKey,
    nackMode: parsed.nackMode ?? defaultNackMode(parsed.pack),
    ...(sessionToken ? { sessionToken } : {}),
    credentials: { value: { id: secretId, secret: secretKey, token: sessionToken } },
  };
}

function checkPack(pack: number, mode: string): void {
  if (pack > 1 && mode !== 'envelope') {
    throw new ConfigError(
      'invalid config: config.pack needs mode "envelope" (raw mode sends each body as it is)',
      { details: { fields: ['config.pack'] } },
    );
  }
}

/**
 * `pulsar-http+https://[SecretId:SecretKey@]tdmq.tencentcloudapi.com?region=…&cluster=…&namespace=…`;
 * `pulsar-http+http://127.0.0.1:PORT?…` for the emulator. Query keys are the config fields.
 */
export function fromUrl(url: URL, env: NodeJS.ProcessEnv = process.env): PulsarHttpConfig {
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'pulsar-http+https' && scheme !== 'pulsar-http+http') {
    throw new ConfigError(`pulsar-http URLs start with pulsar-http+https:// or pulsar-http+http://`);
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new ConfigError('a pulsar-http URL has no path: put cluster and namespace in the query', {
      details: { fields: ['url.path'] },
    });
  }
  const query = parseWithSchema(urlSchema, queryToObject(url), 'pulsar-http URL query');
  const { secretId, secretKey, ...rest } = query;
  const user = url.username === '' ? undefined : decodeUrlPart(url.username, 'user (SecretId)');
  const pass = url.password === '' ? undefined : decodeUrlPart(url.password, 'password (SecretKey)');
  const input: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    endpoint: url.host,
    protocol: scheme === 'pulsar-http+http' ? 'http' : 'https',
  };
  const id = user ?? secretId;
  const key = pass ?? secretKey;
  if (id !== undefined) input.secretId = new Secret(id);
  if (key !== undefined) input.secretKey = new Secret(key);
  if (query.token !== undefined) input.token = new Secret(query.token);
  return parseConfig(input, env);
}

function fromEnv(value: string | undefined): Secret | undefined {
  return value === undefined || value === '' ? undefined : new Secret(value);
}
