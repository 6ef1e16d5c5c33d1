// Driver configuration: validated with zod; credentials fall back to the TENCENTCLOUD_SECRET_ID /
// TENCENTCLOUD_SECRET_KEY environment variables (the names tencentcloud-sdk-nodejs reads). The
// SecretKey is held in core's Secret so no error, log or inspect output can show it.

import {
  ConfigError,
  type CredentialSource,
  credentialSourceSchema,
  parseWithSchema,
  Secret,
} from '@switchyard/core/driver';
import { z } from 'zod';

/** Long region names → the short codes in TDMQ CMQ data-plane hosts (cmq-<code>.public.tencenttdmq.com). */
const SHORT_REGIONS: Readonly<Record<string, string>> = Object.freeze({
  'ap-guangzhou': 'gz',
  'ap-shanghai': 'sh',
  'ap-beijing': 'bj',
  'ap-chengdu': 'cd',
  'ap-chongqing': 'cq',
  'ap-nanjing': 'nj',
  'ap-hongkong': 'hk',
  'ap-singapore': 'sg',
  'ap-bangkok': 'th',
  'ap-mumbai': 'in',
  'ap-seoul': 'kr',
  'ap-tokyo': 'jp',
  'na-siliconvalley': 'usw',
  'na-ashburn': 'use',
  'na-toronto': 'ca',
  'eu-frankfurt': 'de',
  'ap-shanghai-fsi': 'shjr',
  'ap-shenzhen-fsi': 'szjr',
});

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.search === '';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL without credentials or query, e.g. https://cmq-gz.public.tencenttdmq.com');

export const configSchema = z.strictObject({
  /** Data-plane endpoint; default https://cmq-<short region>.public.tencenttdmq.com. */
  endpoint: httpUrl.optional(),
  /** Long region name (ap-guangzhou), sent to the management API and used for the default endpoint. */
  region: z.string().regex(/^[a-z]{2,}(-[a-z0-9]+)+$/, 'must be a region like ap-guangzhou'),
  secretId: z.string().min(1, 'must not be empty').optional(),
  secretKey: z.union([z.string().min(1, 'must not be empty'), z.instanceof(Secret)]).optional(),
  /** Temporary credentials (STS) token, sent as Token. */
  token: z.union([z.string().min(1), z.instanceof(Secret)]).optional(),
  /**
   * Instead of secretId/secretKey/token: where they come from and how they are refreshed (id =
   * SecretId, secret = SecretKey, token = the temporary key's token; docs/credentials.md).
   */
  credentials: credentialSourceSchema.optional(),
  signatureMethod: z.enum(['HmacSHA256', 'HmacSHA1']).default('HmacSHA256'),
  /** Request path: TDMQ accepts `/` (Java/Go SDKs) and `/v2/index.php` (legacy SDKs). */
  path: z.enum(['/', '/v2/index.php']).default('/'),
  /** Tencent Cloud API 3.0 endpoint for queue/topic/subscription management. */
  managementEndpoint: httpUrl.default('https://tdmq.tencentcloudapi.com'),
  /** queue: destinations are CMQ queues. topic: producers publish to topics, groups read through queue subscriptions. */
  model: z.enum(['queue', 'topic']).default('queue'),
  /** Filter type of topics the driver creates (and expects): tags (1) or routing keys (2). */
  topicFilter: z.enum(['tag', 'routing']).default('tag'),
  /** Routing topics require a key on every message: the one used when a message has none. */
  defaultRoutingKey: z
    .string()
    .regex(/^[^.]+(\.[^.]+){0,15}$/, 'must be words joined by "." (at most 15 dots)')
    .max(64)
    .default('default'),
  /** raw: the body is the CMQ message text (interop). envelope: JSON with headers, key, tags, binary bodies. */
  bodyMode: z.enum(['raw', 'envelope']).default('raw'),
  /** Create queues, topics and subscriptions on demand through the management API. */
  manageTopology: z.boolean().default(false),
  /**
   * How nack() works. visibility: it does nothing and the message returns when the queue's
   * visibility timeout ends (CMQ has no ChangeMessageVisibility). requeue (envelope mode): a copy
   * goes back into the queue, after nack's delay, and the original is deleted.
   */
  nackMode: z.enum(['visibility', 'requeue']).default('visibility'),
  /** native: queues the driver creates get a CMQ dead-letter policy; emulated: the portable layer dead-letters. */
  deadLetter: z.enum(['emulated', 'native']).default('emulated'),
  /** Visibility timeout of queues the driver creates, ms (CMQ counts whole seconds, 1 s - 12 h). */
  visibilityTimeoutMs: z.number().int().min(1_000).max(43_200_000).default(30_000),
  /** Largest CMQ message, bytes: 65536 is the CMQ default queue size; TDMQ allows up to 1 MiB. */
  maxMessageBytes: z.number().int().min(1_024).max(1_048_576).default(65_536),
  /** Keep-alive connections to the data plane (also the bound on concurrent requests). */
  maxConnections: z.number().int().min(1).max(1_024).default(32),
  /** Timeout of one request; a long poll gets its wait on top. */
  requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
});

export type CmqConfigInput = z.input<typeof configSchema>;

export interface CmqConfig
  extends Omit<
    z.output<typeof configSchema>,
    'secretKey' | 'token' | 'endpoint' | 'secretId' | 'credentials'
  > {
  readonly endpoint: string;
  /** The inline or environment key; undefined when `credentials` names a source. */
  readonly secretId: string | undefined;
  readonly secretKey: Secret | undefined;
  readonly token: Secret | undefined;
  /** Where the key comes from: the `credentials` given, or the inline/environment key. */
  readonly credentials: CredentialSource;
}

export function defaultEndpoint(region: string): string {
  const short = SHORT_REGIONS[region];
  if (short === undefined) {
    throw new ConfigError(
      `no default CMQ endpoint for region "${region}"; set config.endpoint (copy it from the TDMQ console)`,
      { details: { fields: ['config.endpoint'] } },
    );
  }
  return `https://cmq-${short}.public.tencenttdmq.com`;
}

export function parseConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): CmqConfig {
  const parsed = parseWithSchema(configSchema, input, 'config');
  checkCombinations(parsed);
  const endpoint = (parsed.endpoint ?? defaultEndpoint(parsed.region)).replace(/\/+$/, '');
  if (parsed.credentials !== undefined) {
    const inline = (['secretId', 'secretKey', 'token'] as const).filter((f) => parsed[f] !== undefined);
    if (inline.length > 0) {
      throw new ConfigError(
        `give config.credentials or ${inline.map((f) => `config.${f}`).join(', ')}, not both`,
        { details: { fields: inline.map((f) => `config.${f}`) } },
      );
    }
    return Object.freeze({
      ...parsed,
      endpoint,
      secretId: undefined,
      secretKey: undefined,
      token: undefined,
      credentials: parsed.credentials,
    });
  }
  const secretId = parsed.secretId ?? env.TENCENTCLOUD_SECRET_ID;
  const secretKeyValue = parsed.secretKey ?? env.TENCENTCLOUD_SECRET_KEY;
  if (secretId === undefined || secretId === '') {
    throw new ConfigError('config.secretId is required (or set TENCENTCLOUD_SECRET_ID)', {
      details: { fields: ['config.secretId'] },
    });
  }
  if (secretKeyValue === undefined || secretKeyValue === '') {
    throw new ConfigError('config.secretKey is required (or set TENCENTCLOUD_SECRET_KEY)', {
      details: { fields: ['config.secretKey'] },
    });
  }
  const tokenValue =
    parsed.token ?? (parsed.secretId === undefined ? env.TENCENTCLOUD_SESSION_TOKEN : undefined);
  const secretKey = Secret.from(secretKeyValue);
  const token = tokenValue === undefined || tokenValue === '' ? undefined : Secret.from(tokenValue);
  return Object.freeze({
    ...parsed,
    endpoint,
    secretId,
    secretKey,
    token,
    credentials: { value: { id: secretId, secret: secretKey, token } },
  });
}

function checkCombinations(parsed: z.output<typeof configSchema>): void {
  if (parsed.deadLetter === 'native' && !parsed.manageTopology) {
    throw new ConfigError(
      'config.deadLetter "native" needs config.manageTopology: the dead-letter policy is set when the driver creates the queue',
      { details: { fields: ['config.deadLetter'] } },
    );
  }
  if (parsed.nackMode === 'requeue' && parsed.bodyMode !== 'envelope') {
    throw new ConfigError(
      'config.nackMode "requeue" needs config.bodyMode "envelope": the re-sent copy carries its id and delivery count in the envelope',
      { details: { fields: ['config.nackMode'] } },
    );
  }
  if (parsed.nackMode === 'requeue' && parsed.deadLetter === 'native') {
    throw new ConfigError(
      'config.nackMode "requeue" cannot use deadLetter "native": CMQ counts receives per copy, so its policy would never fire; use deadLetter "emulated"',
      { details: { fields: ['config.deadLetter'] } },
    );
  }
}
