import { z } from 'zod';
import { type AttemptStore, isAttemptStore } from './attempt-store.js';
import { hasControlCharacters } from './body.js';
import { ConfigError, InvalidArgumentError } from './errors.js';
import type { Logger } from './logger.js';
import { redact } from './secret.js';
import { unknownKeyText } from './strict-keys.js';

export { decodeUrlPart, queryToObject } from './url-part.js';

import { telemetryOptionsSchema } from './telemetry/config.js';

/** A URL query value that must be a whole number: `"30"` → 30. Every driver's URL schema uses it. */
export const intParam = z.string().regex(/^\d+$/, 'must be a whole number').transform(Number);

/** A URL query value that must be `true` or `false`. */
export const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * Validates `input` against a schema. The error names every bad field by its path (`where.field`),
 * what was wrong and what is allowed, and never echoes a value (it may be a secret).
 */
export function parseWithSchema<T>(
  schema: z.ZodType<T>,
  input: unknown,
  where: string,
  ErrorClass: typeof ConfigError | typeof InvalidArgumentError = ConfigError,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? `${where}.${issue.path.join('.')}` : where;
    if (issue.code === 'unrecognized_keys') {
      // A typo (`delay` for `delayMs`) must not pass silently: name the key and the nearest valid one.
      const allowed = keysAt(schema, issue.path);
      if (allowed !== undefined)
        return `${path}: ${redact(issue.keys.map((key) => unknownKeyText(key, allowed, 'option')).join('; '))}`;
    }
    return `${path}: ${redact(issue.message)}`;
  });
  throw new ErrorClass(`invalid ${where}: ${problems.join('; ')}`, {
    details: { fields: result.error.issues.map((i) => [where, ...i.path].join('.')) },
  });
}

/** The keys the object schema at `path` allows (through optional, default and pipe wrappers). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: z.core.$ZodType | undefined = schema;
  for (let i = 0; ; i++) {
    current = unwrap(current);
    if (current === undefined || current._zod.def.type !== 'object') return undefined;
    const shape = (current as z.core.$ZodObject)._zod.def.shape;
    if (i === path.length) return Object.keys(shape);
    current = shape[String(path[i])];
  }
}

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
  return current;
}

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const retryPolicySchema = z.strictObject({
  initialDelayMs: z.number().int().min(1).max(600_000).optional(),
  maxDelayMs: z.number().int().min(1).max(3_600_000).optional(),
  multiplier: z.number().min(1).max(10).optional(),
  maxAttempts: z.union([z.number().int().min(1), z.literal(Infinity)]).optional(),
  deadlineMs: z.number().int().min(1).optional(),
});

const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (m) => typeof (value as Record<string, unknown>)[m] === 'function',
    ),
  { message: 'must be a logger with debug, info, warn and error methods (pino works)' },
);

/**
 * Options every broker takes, whatever the driver. Strict: connect() hands it only the portable
 * keys of a config object (the driver validates the rest), and connect(url, options) options
 * hold nothing else, so an unknown key there is a typo.
 */
export const portableBrokerSchema = z.strictObject({
  logger: loggerSchema.optional(),
  /** Retry of retryable transport errors on send, receive and ack. */
  retry: retryPolicySchema.optional(),
  /** Tracing and metrics through @opentelemetry/api when installed (docs/observability.md). */
  telemetry: telemetryOptionsSchema.optional(),
});

const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters')
  .refine((s) => !hasControlCharacters(s), 'must not contain control characters');

export const producerOptionsSchema = z.strictObject({
  /** Most messages per broker request (capped by the driver's maxBatchSize). */
  maxBatchSize: positiveInt(10_000).optional(),
  /** Batches in flight at once. */
  maxInFlight: positiveInt(1_024).optional(),
  /** Most messages sent per second (a token bucket holding one second's worth). */
  maxPerSecond: z.number().positive().max(1_000_000).optional(),
  retry: retryPolicySchema.optional(),
  driverOptions: z.record(z.string(), z.unknown()).optional(),
});
export type ProducerOptions = z.input<typeof producerOptionsSchema>;

export const consumerOptionsSchema = z
  .strictObject({
    group: nameSchema.optional(),
    filter: z
      .strictObject({
        tags: z.array(z.string().min(1)).max(64).optional(),
        routingKeys: z.array(z.string().min(1)).max(64).optional(),
      })
      .optional(),
    /** Deliveries held at once (buffered + being handled); memory stays O(prefetch). */
    prefetch: positiveInt(10_000).optional(),
    /** Handlers running at once in run(). */
    concurrency: positiveInt(10_000).optional(),
    /** In run(), handle messages with the same orderingKey one after another. */
    ordered: z.boolean().optional(),
    /** Deliveries before a message goes to `deadLetter`. */
    maxDeliveries: positiveInt(1_000).optional(),
    deadLetter: nameSchema.optional(),
    visibilityTimeoutMs: z.number().int().min(100).max(43_200_000).optional(),
    startFrom: z.union([z.literal('earliest'), z.literal('latest'), z.date()]).optional(),
    /** Backoff between redeliveries when a run() handler throws. */
    retry: z
      .strictObject({
        initialDelayMs: z.number().int().min(0).max(3_600_000).optional(),
        maxDelayMs: z.number().int().min(0).max(3_600_000).optional(),
        multiplier: z.number().min(1).max(10).optional(),
      })
      .optional(),
    /** Most run() / runBatch() handler starts (messages) per second. */
    maxPerSecond: z.number().positive().max(1_000_000).optional(),
    /** Longest single long poll against the broker, ms. */
    pollWaitMs: z.number().int().min(0).max(30_000).optional(),
    /**
     * A durable delivery count shared by the group's consumer processes (e.g. RedisAttemptStore or
     * PostgresAttemptStore from @switchyard/dedupe). On flavours whose broker keeps no count a crash
     * cannot reset (pulsar-http, RocketMQ Remoting), each receive is counted in it before any handler
     * runs, so a message that kills its process is dead-lettered on delivery maxDeliveries + 1 across
     * restarts. A store failure fails the receive (UNAVAILABLE, retried): its messages go back to the
     * broker unhandled. Flavours whose broker counts deliveries itself do not use it (docs/reliability.md).
     */
    attemptStore: z
      .custom<AttemptStore>(
        isAttemptStore,
        'must be an AttemptStore: an object with increment(keys) and forget(keys)',
      )
      .optional(),
    driverOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((o) => o.maxDeliveries === undefined || o.deadLetter !== undefined, {
    message:
      'maxDeliveries needs deadLetter: the destination that receives messages that failed maxDeliveries times (nothing is dropped silently)',
    path: ['deadLetter'],
  });
export type ConsumerOptions = z.input<typeof consumerOptionsSchema>;

export function validateName(name: unknown, what: string): string {
  return parseWithSchema(nameSchema, name, what, InvalidArgumentError);
}
