// Configuration: a validated object, from a config literal or a `rocketmq://` URL. Credentials
// follow TDMQ's documented order, which swaps the intuitive one: the access key is the role's
// TOKEN and the secret key is the role NAME (`token` and `role` are accepted as clearer aliases).
// Both become core Secrets at once so no later error, log or inspect can print them.

import {
  boolParam,
  ConfigError,
  type CredentialSource,
  credentialSourceSchema,
  decodeUrlPart,
  intParam,
  parseWithSchema,
  Secret,
} from '@switchyard/core/driver';
import { z } from 'zod';
import type { Naming } from './naming.js';

export const TOPIC_TYPES = ['NORMAL', 'FIFO', 'DELAY', 'MIXED'] as const;
export type TopicType = (typeof TOPIC_TYPES)[number];

const secretish = z.union([z.string().min(1, 'must not be empty'), z.instanceof(Secret)]);
const hostPort = z
  .string()
  .regex(
    /^[A-Za-z0-9.-]+:\d{1,5}$/,
    'must be one host:port (the client supports a single address; no scheme, no IPv6 literal)',
  );

/**
 * A hook the driver calls before a consumer subscribes, with the group's full name
 * (`clusterId|namespace%group`, whatever the naming form), to create it where the server allows
 * that (the emulator's admin API, a TDMQ management call); the data plane cannot create groups.
 */
export type EnsureGroup = (group: string, options: { fifo: boolean }) => void | Promise<void>;

/**
 * Request-reply (gRPC): creates, and on close deletes, a process's private reply topic and its
 * consumer group, by their full names (`clusterId|namespace%name`); the data plane cannot (a TDMQ
 * management call, the emulator's admin API). Without it the driver has no request-reply.
 */
export interface ReplyTopics {
  create(topic: string, group: string): void | Promise<void>;
  delete(topic: string, group: string): void | Promise<void>;
}

export const TRANSPORTS = ['grpc', 'remoting'] as const;
export type Transport = (typeof TRANSPORTS)[number];

const configSchema = z
  .strictObject({
    /**
     * `grpc` (RocketMQ 5, TDMQ 5.x clusters) or `remoting` (the 4.x TCP protocol: Apache 4.x
     * brokers and TDMQ 4.x clusters, which accept nothing else).
     */
    transport: z.enum(TRANSPORTS).default('grpc'),
    /**
     * gRPC: the access point, `host:port` (TDMQ: `rmq-xxx.rocketmq.<region>.qcloud.tencenttdmq.com:8080`).
     * Remoting: the name server, `host:port` (TDMQ: the console's access address; Apache: port 9876).
     */
    endpoints: hostPort,
    /** TDMQ cluster id (`rocketmq-xxx`); with `namespace` it qualifies short names. */
    cluster: z.string().min(1).max(128).optional(),
    namespace: z.string().min(1).max(128).optional(),
    /** `full`: names become `cluster|namespace%name` (4.x naming); `field`: the namespace field (5.x). */
    naming: z.enum(['full', 'field']).default('full'),
    /** TDMQ role token (the access key). */
    accessKey: secretish.optional(),
    token: secretish.optional(),
    /** TDMQ role name (the secret key the signature is keyed with). */
    secretKey: secretish.optional(),
    role: secretish.optional(),
    /** Session token for temporary credentials (`x-mq-session-token`). */
    securityToken: secretish.optional(),
    /**
     * Instead of accessKey/token: where the role token comes from, asked again as it changes
     * (its `secret`; the role name stays `secretKey`/`role`; docs/credentials.md).
     */
    credentials: credentialSourceSchema.optional(),
    tls: z.boolean().default(false),
    /** The topic type the destinations have: decides delay and ordering-key support. */
    topicType: z.enum(TOPIC_TYPES).default('MIXED'),
    /** Consumer groups are FIFO groups (ordered per message group); set as on the server. */
    fifoGroups: z.boolean().default(false),
    /** Deadline of each unary RPC (the client's minimum is 1000). */
    requestTimeoutMs: z.number().int().min(1_000).max(60_000).default(3_000),
    /** Longest wait for a client's startup (route + settings) before giving up with TIMEOUT. */
    startupTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Server long-poll per receive (the proxy clamps to 5–20 s). */
    longPollMs: z.number().int().min(100).max(30_000).default(5_000),
    /** Invisibility of a received message when the consumer sets no visibility timeout. */
    invisibleDurationMs: z.number().int().min(1_000).max(43_200_000).default(30_000),
    /** Largest body accepted before sending (gRPC default 4128768: its client cannot receive near 4 MiB; Remoting 4194304). */
    maxMessageBytes: z.number().int().min(1).max(4_194_304).optional(),
    /** Called with each consumer group's wire name before subscribing (tests, management tools). */
    ensureGroup: z.custom<EnsureGroup>((v) => typeof v === 'function', 'must be a function').optional(),
    /** gRPC request-reply: how to create and delete a private reply topic (see ReplyTopics). */
    replyTopics: z
      .custom<ReplyTopics>(
        (v) =>
          typeof (v as ReplyTopics | undefined)?.create === 'function' &&
          typeof (v as ReplyTopics | undefined)?.delete === 'function',
        'must be an object with create(topic, group) and delete(topic, group) functions',
      )
      .optional(),
    // Remoting only:
    /** Producer group sent with every message (qualified like a topic). */
    producerGroup: z.string().min(1).max(255).default('switchyard_producer'),
    /**
     * `levels`: delayMs becomes the next 4.x delay level at or above it (1 s … 2 h, Apache).
     * `startDeliverTime`: the exact `__STARTDELIVERTIME` property (TDMQ, up to 40 days).
     */
    delayMode: z.enum(['levels', 'startDeliverTime']).default('levels'),
    /** Nacks beyond this many send a message to %DLQ%<group> on the broker (its default, 16). */
    maxReconsumeTimes: z.number().int().min(0).max(16).default(16),
    /**
     * `native`: a consumer's maxDeliveries becomes its send-backs' maxReconsumeTimes (− 1) and the
     * broker moves the message to %DLQ%<group>, the only dead-letter destination it has.
     * `emulated`: the portable layer copies it to any named destination.
     */
    deadLetter: z.enum(['emulated', 'native']).default('emulated'),
    /** Rebalance period (the broker also asks for one when the group's members change). */
    rebalanceIntervalMs: z.number().int().min(100).max(600_000).default(20_000),
    heartbeatIntervalMs: z.number().int().min(100).max(600_000).default(30_000),
    routeRefreshMs: z.number().int().min(100).max(600_000).default(30_000),
    /** How often consumed offsets are committed to the broker (also on pulls and on close). */
    offsetPersistMs: z.number().int().min(100).max(600_000).default(5_000),
  })
  .refine((c) => c.transport === 'grpc' || c.naming === 'full', {
    message:
      'the remoting transport qualifies names itself (4.x namespaces are client-side): use naming "full"',
    path: ['naming'],
  })
  .refine((c) => c.transport === 'remoting' || c.deadLetter === 'emulated', {
    message:
      'deadLetter "native" is for the remoting transport; over gRPC the broker dead-letters after the group\'s server-side attempts and maxDeliveries is emulated',
    path: ['deadLetter'],
  })
  .refine((c) => c.transport === 'grpc' || !c.tls, {
    message: 'the remoting transport has no TLS; use rocketmq+remoting:// without tls',
    path: ['tls'],
  })
  .refine((c) => c.accessKey === undefined || c.token === undefined, {
    message: 'give the role token once, as accessKey or as token',
    path: ['token'],
  })
  .refine((c) => c.secretKey === undefined || c.role === undefined, {
    message: 'give the role name once, as secretKey or as role',
    path: ['role'],
  })
  .refine((c) => (c.accessKey ?? c.token) === undefined || (c.secretKey ?? c.role) !== undefined, {
    message: 'an access key (role token) needs a secretKey (role name)',
    path: ['secretKey'],
  })
  .refine(
    (c) => (c.secretKey ?? c.role) === undefined || (c.accessKey ?? c.token ?? c.credentials) !== undefined,
    {
      message: 'a secretKey (role name) needs an accessKey (role token) or credentials',
      path: ['accessKey'],
    },
  )
  .refine((c) => c.credentials === undefined || (c.accessKey ?? c.token) === undefined, {
    message: 'give the role token once, as credentials or as accessKey/token',
    path: ['credentials'],
  })
  .refine((c) => c.credentials === undefined || (c.secretKey ?? c.role) !== undefined, {
    message: 'credentials give the role token; the role name is still needed as secretKey or role',
    path: ['secretKey'],
  });

export type RocketMqConfigInput = z.input<typeof configSchema>;

export interface RocketMqConfig {
  readonly transport: Transport;
  readonly endpoints: string;
  readonly cluster: string | undefined;
  readonly namespace: string | undefined;
  readonly naming: Naming;
  /**
   * The role token and name the clients sign with. With `credentialSource`, parseConfig leaves an
   * empty accessKey here and the driver puts a live one in its place (live-credentials.ts).
   */
  readonly credentials: { readonly accessKey: Secret; readonly secretKey: Secret } | undefined;
  /** Where the role token comes from, when the `credentials` field was given. */
  readonly credentialSource: CredentialSource | undefined;
  readonly securityToken: Secret | undefined;
  readonly tls: boolean;
  readonly topicType: TopicType;
  readonly fifoGroups: boolean;
  readonly requestTimeoutMs: number;
  readonly startupTimeoutMs: number;
  readonly longPollMs: number;
  readonly invisibleDurationMs: number;
  readonly maxMessageBytes: number;
  readonly ensureGroup: EnsureGroup | undefined;
  readonly replyTopics: ReplyTopics | undefined;
  readonly producerGroup: string;
  readonly delayMode: 'levels' | 'startDeliverTime';
  readonly maxReconsumeTimes: number;
  readonly deadLetter: 'emulated' | 'native';
  readonly rebalanceIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly routeRefreshMs: number;
  readonly offsetPersistMs: number;
}

export function parseConfig(input: unknown): RocketMqConfig {
  const c = parseWithSchema(configSchema, input, 'config');
  const accessKey = c.accessKey ?? c.token;
  const secretKey = c.secretKey ?? c.role;
  return Object.freeze({
    transport: c.transport,
    endpoints: c.endpoints,
    cluster: c.cluster,
    namespace: c.namespace,
    naming: c.naming,
    credentials:
      secretKey === undefined || (accessKey === undefined && c.credentials === undefined)
        ? undefined
        : Object.freeze({ accessKey: Secret.from(accessKey ?? ''), secretKey: Secret.from(secretKey) }),
    credentialSource: c.credentials,
    securityToken: c.securityToken === undefined ? undefined : Secret.from(c.securityToken),
    tls: c.tls,
    topicType: c.topicType,
    fifoGroups: c.fifoGroups,
    requestTimeoutMs: c.requestTimeoutMs,
    startupTimeoutMs: c.startupTimeoutMs,
    longPollMs: c.longPollMs,
    invisibleDurationMs: c.invisibleDurationMs,
    // A broker takes 4 MiB; the gRPC client cannot receive a body that close to its 4 MiB frame cap.
    maxMessageBytes: c.maxMessageBytes ?? (c.transport === 'remoting' ? 4_194_304 : 4_128_768),
    ensureGroup: c.ensureGroup,
    replyTopics: c.replyTopics,
    producerGroup: c.producerGroup,
    delayMode: c.delayMode,
    maxReconsumeTimes: c.maxReconsumeTimes,
    deadLetter: c.deadLetter,
    rebalanceIntervalMs: c.rebalanceIntervalMs,
    heartbeatIntervalMs: c.heartbeatIntervalMs,
    routeRefreshMs: c.routeRefreshMs,
    offsetPersistMs: c.offsetPersistMs,
  });
}

const urlQuerySchema = z.strictObject({
  namespace: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  naming: z.enum(['full', 'field']).optional(),
  topicType: z.enum(TOPIC_TYPES).optional(),
  fifoGroups: boolParam.optional(),
  requestTimeoutMs: intParam.optional(),
  startupTimeoutMs: intParam.optional(),
  longPollMs: intParam.optional(),
  invisibleDurationMs: intParam.optional(),
  maxMessageBytes: intParam.optional(),
  producerGroup: z.string().min(1).optional(),
  delayMode: z.enum(['levels', 'startDeliverTime']).optional(),
  maxReconsumeTimes: intParam.optional(),
  deadLetter: z.enum(['emulated', 'native']).optional(),
  rebalanceIntervalMs: intParam.optional(),
  heartbeatIntervalMs: intParam.optional(),
  routeRefreshMs: intParam.optional(),
  offsetPersistMs: intParam.optional(),
});

const SCHEMES = ['rocketmq', 'rocketmq+tls', 'rocketmq+remoting'];

/**
 * `rocketmq://TOKEN:ROLE@host:port?namespace=ns&cluster=rocketmq-xxx` (`rocketmq+tls://` for
 * TLS; `rocketmq+remoting://TOKEN:ROLE@nameserver:9876?…` for the 4.x Remoting protocol). The
 * userinfo is `accessKey:secretKey` in TDMQ's order: role token, then role name.
 */
export function fromUrl(url: URL): RocketMqConfig {
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!SCHEMES.includes(scheme)) {
    throw new ConfigError(
      `rocketmq URL: scheme must be ${SCHEMES.map((s) => `${s}://`).join(', ')}; got ${scheme}://`,
      {
        details: { fields: ['url.scheme'] },
      },
    );
  }
  if (url.hostname === '' || url.port === '') {
    throw new ConfigError('rocketmq URL: host and port are required, e.g. rocketmq://host:8080', {
      details: { fields: ['url.host'] },
    });
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new ConfigError('rocketmq URL: no path is allowed; put the namespace in ?namespace=', {
      details: { fields: ['url.path'] },
    });
  }
  const duplicated = [...new Set([...url.searchParams.keys()])].filter(
    (k) => url.searchParams.getAll(k).length > 1,
  );
  if (duplicated.length > 0) {
    throw new ConfigError(`rocketmq URL: query parameter ${duplicated[0]} is given twice`, {
      details: { fields: [`url.${duplicated[0]}`] },
    });
  }
  const query = parseWithSchema(urlQuerySchema, Object.fromEntries(url.searchParams), 'rocketmq URL query');
  const user = decodeUrlPart(url.username, 'user (access key)');
  const password = decodeUrlPart(url.password, 'password (secret key)');
  return parseConfig({
    endpoints: `${url.hostname}:${url.port}`,
    tls: scheme === 'rocketmq+tls',
    ...(scheme === 'rocketmq+remoting' ? { transport: 'remoting' } : {}),
    ...(user === '' ? {} : { accessKey: new Secret(user) }),
    ...(password === '' ? {} : { secretKey: new Secret(password) }),
    ...query,
  });
}
