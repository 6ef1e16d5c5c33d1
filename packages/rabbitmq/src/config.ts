import {
  ConfigError,
  type CredentialSource,
  credentialSourceSchema,
  parseWithSchema,
  Secret,
} from '@switchyard/core/driver';
import { z } from 'zod';

// One schema for config objects and (after url.ts has turned the URL into an object) URLs, so both
// forms accept the same fields and name the same bad field in their errors.

const secretInput = z.union([
  z.string(),
  z.custom<Secret>((v) => v instanceof Secret, { message: 'must be a string or a Secret' }),
]);

const name = z.string().min(1).max(255);

export const configSchema = z
  .strictObject({
    protocol: z.enum(['amqp', 'amqps']).default('amqp'),
    host: z.string().min(1).max(255).default('localhost'),
    port: z.number().int().min(1).max(65_535).optional(),
    /** RabbitMQ user; on TDMQ the role name (alias `role`). */
    username: z.string().max(255).optional(),
    role: z.string().max(255).optional(),
    /** RabbitMQ password; on TDMQ the role token (alias `token`). */
    password: secretInput.optional(),
    token: secretInput.optional(),
    /**
     * Instead of password/token: where the password (TDMQ role token) comes from, re-read for
     * each new connection (id = user name when given; docs/credentials.md).
     */
    credentials: credentialSourceSchema.optional(),
    /** Virtual host; on TDMQ `clusterId|vhostName`, or the vhost name with `cluster` set. */
    vhost: z.string().min(1).max(255).optional(),
    /** TDMQ cluster id: the vhost becomes `cluster|vhost`. */
    cluster: z.string().min(1).max(128).optional(),
    tls: z
      .strictObject({
        ca: z.union([z.string(), z.instanceof(Buffer)]).optional(),
        cert: z.union([z.string(), z.instanceof(Buffer)]).optional(),
        key: secretInput.optional(),
        rejectUnauthorized: z.boolean().optional(),
        servername: z.string().optional(),
      })
      .optional(),
    /**
     * Type of the destination exchanges: the one the driver declares when an exchange is missing,
     * and what it assumes of an existing one (`direct` binds exact keys, `topic` also `*` and `#`).
     */
    exchangeType: z.enum(['topic', 'direct', 'fanout']).default('topic'),
    /**
     * Settings of what the driver declares; what already exists is used as it is. Another program
     * redeclaring it must use the same settings (pika's and amqplib's defaults are non-durable).
     */
    exchangeDurable: z.boolean().default(true),
    exchangeAutoDelete: z.boolean().default(false),
    exchangeArguments: z.record(name, z.unknown()).default({}),
    queueDurable: z.boolean().default(true),
    queueAutoDelete: z.boolean().default(false),
    queueArguments: z
      .record(name, z.unknown())
      .refine((a) => !('x-queue-type' in a), 'set x-queue-type with queueType')
      .refine((a) => !('x-expires' in a), 'set x-expires with queueExpiresMs')
      .default({}),
    /** Queue type for consumer queues: quorum queues count deliveries and dead-letter natively. */
    queueType: z.enum(['classic', 'quorum']).default('classic'),
    /**
     * `declare`: exchanges, queues, bindings and delay queues are asserted (needs configure
     * permission). `check`: exchanges and queues must exist (TDMQ console), only bindings are made.
     */
    topology: z.enum(['declare', 'check']).default('declare'),
    /** Consumer queue name; `{source}` and `{group}` are replaced. */
    queueName: z
      .string()
      .min(1)
      .max(255)
      .refine((s) => s.includes('{group}'), 'must contain {group}: groups need a queue each')
      .default('{source}.{group}'),
    /**
     * Consumer queues the broker deletes after this long without consumers (`x-expires`): for
     * short-lived groups (demos, per-run tests, temporary bridges). Unset: queues stay until
     * deleted, as a durable group's queue should.
     */
    queueExpiresMs: z
      .number()
      .int()
      .min(1_000)
      .max(2 ** 31 - 1)
      .optional(),
    /** Prefix of the delay exchanges and queues (one pair per power-of-two level). */
    delayPrefix: name.default('switchyard.delay'),
    /** Delay levels: the longest delay is 2^levels - 1 ms (30 ≈ 12.4 days). */
    delayLevels: z.number().int().min(1).max(32).default(30),
    /**
     * `quorum` (RabbitMQ 3.10+): delay levels are quorum queues that dead-letter at-least-once into
     * a "due" queue the driver moves to the target with `mandatory` and confirms, so a message whose
     * target has no queue bound when its delay ends is kept and retried, never dropped. `classic`:
     * the earlier classic levels (at-most-once: such a message is dropped), for brokers before 3.10.
     */
    delayQueueType: z.enum(['quorum', 'classic']).default('quorum'),
    /**
     * A message no queue is bound for (mandatory, returned by the broker): `error` rejects the send
     * with NOT_FOUND, so a missing or re-declared queue never loses a message behind a resolved
     * send; `warn` logs it and resolves (opt in where a routing key nobody binds is normal pub/sub);
     * `drop` publishes without the mandatory flag.
     */
    unroutable: z.enum(['warn', 'error', 'drop']).default('error'),
    persistent: z.boolean().default(true),
    heartbeatSeconds: z.number().int().min(0).max(600).default(10),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** How long a send waits for a lost connection to come back before failing UNAVAILABLE. */
    unavailableTimeoutMs: z.number().int().min(0).max(600_000).default(15_000),
    reconnect: z
      .strictObject({
        initialDelayMs: z.number().int().min(1).max(60_000).default(100),
        maxDelayMs: z.number().int().min(1).max(600_000).default(5_000),
      })
      .default({ initialDelayMs: 100, maxDelayMs: 5_000 }),
    maxMessageBytes: z
      .number()
      .int()
      .min(1)
      .max(512 * 1024 * 1024)
      .default(16 * 1024 * 1024),
    /** Shown in the RabbitMQ management UI. */
    connectionName: z.string().max(255).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.username !== undefined && c.role !== undefined && c.username !== c.role)
      ctx.addIssue({ code: 'custom', path: ['role'], message: 'give username or role (they are the same)' });
    if (c.password !== undefined && c.token !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'give password or token (they are the same)',
      });
    if (c.queueType === 'quorum' && (!c.queueDurable || c.queueAutoDelete))
      ctx.addIssue({
        code: 'custom',
        path: [c.queueDurable ? 'queueAutoDelete' : 'queueDurable'],
        message: 'quorum queues are always durable and never auto-delete; use queueType classic for that',
      });
    if (c.cluster !== undefined && c.vhost?.includes('|'))
      ctx.addIssue({
        code: 'custom',
        path: ['vhost'],
        message: 'already names a cluster (cluster|vhost); drop the cluster field or the prefix',
      });
  });

export type RabbitConfigInput = z.input<typeof configSchema>;

/** The validated configuration a driver instance runs with. */
export interface RabbitConfig {
  readonly protocol: 'amqp' | 'amqps';
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: Secret;
  /** Where the user name and password come from: `credentials`, or the two fields above. */
  readonly credentials: CredentialSource;
  readonly vhost: string;
  readonly tls: z.output<typeof configSchema>['tls'];
  readonly exchangeType: 'topic' | 'direct' | 'fanout';
  readonly exchangeDurable: boolean;
  readonly exchangeAutoDelete: boolean;
  readonly exchangeArguments: Readonly<Record<string, unknown>>;
  readonly queueDurable: boolean;
  readonly queueAutoDelete: boolean;
  readonly queueArguments: Readonly<Record<string, unknown>>;
  readonly queueType: 'classic' | 'quorum';
  readonly topology: 'declare' | 'check';
  readonly queueName: string;
  readonly queueExpiresMs: number | undefined;
  readonly delayPrefix: string;
  readonly delayLevels: number;
  readonly delayQueueType: 'quorum' | 'classic';
  readonly unroutable: 'warn' | 'error' | 'drop';
  readonly persistent: boolean;
  readonly heartbeatSeconds: number;
  readonly connectTimeoutMs: number;
  readonly unavailableTimeoutMs: number;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly maxMessageBytes: number;
  readonly connectionName: string | undefined;
}

export function parseConfig(input: unknown, where = 'config'): RabbitConfig {
  const c = parseWithSchema(configSchema, input, where);
  const vhostName = c.vhost ?? (c.cluster === undefined ? '/' : '');
  const vhost = c.cluster === undefined ? vhostName : `${c.cluster}|${vhostName}`;
  if (c.cluster !== undefined && vhostName === '') {
    throw new ConfigError(`invalid ${where}.vhost: TDMQ needs the vhost name with the cluster id`, {
      details: { fields: [`${where}.vhost`] },
    });
  }
  const password = c.password ?? c.token;
  const username = c.username ?? c.role;
  if (c.credentials !== undefined && password !== undefined) {
    const field = c.password === undefined ? 'token' : 'password';
    throw new ConfigError(`invalid ${where}: give ${where}.credentials or ${where}.${field}, not both`, {
      details: { fields: [`${where}.${field}`] },
    });
  }
  const user = username ?? (password === undefined && c.credentials === undefined ? 'guest' : '');
  const secret =
    password === undefined
      ? new Secret(username === undefined && c.credentials === undefined ? 'guest' : '')
      : Secret.from(password);
  return Object.freeze({
    protocol: c.protocol,
    host: c.host,
    port: c.port ?? (c.protocol === 'amqps' ? 5671 : 5672),
    // amqplib's own default is guest/guest only when both are missing; keep that rule.
    username: user,
    password: secret,
    credentials: c.credentials ?? { value: { secret } },
    vhost,
    tls: c.tls,
    exchangeType: c.exchangeType,
    exchangeDurable: c.exchangeDurable,
    exchangeAutoDelete: c.exchangeAutoDelete,
    exchangeArguments: c.exchangeArguments,
    queueDurable: c.queueDurable,
    queueAutoDelete: c.queueAutoDelete,
    queueArguments: c.queueArguments,
    queueType: c.queueType,
    topology: c.topology,
    queueName: c.queueName,
    queueExpiresMs: c.queueExpiresMs,
    delayPrefix: c.delayPrefix,
    delayLevels: c.delayLevels,
    delayQueueType: c.delayQueueType,
    unroutable: c.unroutable,
    persistent: c.persistent,
    heartbeatSeconds: c.heartbeatSeconds,
    connectTimeoutMs: c.connectTimeoutMs,
    unavailableTimeoutMs: c.unavailableTimeoutMs,
    reconnect: c.reconnect,
    maxMessageBytes: c.maxMessageBytes,
    connectionName: c.connectionName,
  });
}

/** Where the driver connects, for status events and errors: no credentials. */
export function describeTarget(config: RabbitConfig): string {
  return `${config.protocol}://${config.host}:${config.port} vhost "${config.vhost}"`;
}
