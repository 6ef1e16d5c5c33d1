// The shape of a switchyard config file, validated with zod. Errors name the file, the broker or
// binding, and the field (see formatIssues); values are never echoed, they may be secrets.

import { z } from 'zod';
import { consumerOptionsSchema, producerOptionsSchema } from '../config.js';

const nameSchema = z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters');

/**
 * A broker: either `url` (a broker URL, as for connect()) or `driver` plus the driver's own
 * fields (validated by the driver when the broker is first used).
 */
export const brokerEntrySchema = z
  .looseObject({
    url: z.string().min(1, 'must not be empty').optional(),
    driver: z.string().min(1, 'must not be empty').optional(),
    description: z.string().optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.url === undefined) === (b.driver === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: b.url === undefined ? ['driver'] : ['url'],
        message: 'give exactly one of "url" (a broker URL) or "driver" (with the driver\'s fields)',
      });
    } else if (b.url !== undefined && Object.keys(b).some((k) => k !== 'url' && k !== 'description')) {
      const extra = Object.keys(b).find((k) => k !== 'url' && k !== 'description')!;
      ctx.addIssue({
        code: 'custom',
        path: [extra],
        message: 'a broker given by "url" takes its options in the URL query; use "driver" for fields',
      });
    }
  });

/** One side of a migration: a broker name, or a broker with names that differ on that side. */
export const brokerRefSchema = z.union([
  nameSchema,
  z.strictObject({
    broker: nameSchema,
    destination: nameSchema.optional(),
    source: nameSchema.optional(),
    group: nameSchema.optional(),
  }),
]);

export const bindingSchema = z
  .strictObject({
    description: z.string().optional(),
    /** The broker behind the binding (both directions) unless `write` / `read` say otherwise. */
    broker: nameSchema.optional(),
    /** Where producers send; defaults to `source`. */
    destination: nameSchema.optional(),
    /** What consumers read; defaults to `destination`. */
    source: nameSchema.optional(),
    /** Consumer group; default "default". */
    group: nameSchema.optional(),
    producer: producerOptionsSchema.optional(),
    consumer: consumerOptionsSchema.optional(),
    /** Dual-write: the first broker is the primary. */
    write: z
      .strictObject({
        brokers: z.array(brokerRefSchema).min(1, 'needs one or two brokers').max(2, 'at most two brokers'),
        /** `both`: a send resolves when both accepted it; `primary`: when the primary did. */
        require: z.enum(['both', 'primary']).default('both'),
      })
      .optional(),
    /** Dual-read: one consumer merging both sources; each ack goes to the message's origin. */
    read: z
      .strictObject({
        brokers: z.array(brokerRefSchema).min(1, 'needs one or two brokers').max(2, 'at most two brokers'),
      })
      .optional(),
  })
  .superRefine((b, ctx) => {
    if (b.destination === undefined && b.source === undefined) {
      ctx.addIssue({ code: 'custom', path: ['destination'], message: 'give "destination" or "source"' });
    }
    if (b.broker === undefined && (b.write === undefined || b.read === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['broker'],
        message: 'required unless both "write" and "read" name their brokers',
      });
    }
  });

export const configFileSchema = z
  .strictObject({
    /** Format version; only 1 exists. */
    version: z.literal(1).optional(),
    brokers: z.record(nameSchema, brokerEntrySchema),
    bindings: z.record(nameSchema, bindingSchema).default({}),
  })
  .superRefine((config, ctx) => {
    const known = Object.keys(config.brokers);
    const check = (ref: unknown, path: PropertyKey[]) => {
      const name = typeof ref === 'string' ? ref : (ref as { broker: string }).broker;
      if (!Object.hasOwn(config.brokers, name)) {
        ctx.addIssue({
          code: 'custom',
          path: typeof ref === 'string' ? path : [...path, 'broker'],
          message: `unknown broker "${name}"; defined brokers: ${known.join(', ') || '(none)'}`,
        });
      }
    };
    for (const [name, binding] of Object.entries(config.bindings)) {
      if (binding.broker !== undefined) check(binding.broker, ['bindings', name, 'broker']);
      for (const [i, ref] of (binding.write?.brokers ?? []).entries())
        check(ref, ['bindings', name, 'write', 'brokers', i]);
      for (const [i, ref] of (binding.read?.brokers ?? []).entries())
        check(ref, ['bindings', name, 'read', 'brokers', i]);
    }
  });

export type BrokerEntry = z.output<typeof brokerEntrySchema>;
export type BrokerRef = z.output<typeof brokerRefSchema>;
export type BindingEntry = z.output<typeof bindingSchema>;
/** A validated config file (or object). */
export type SwitchyardConfig = z.output<typeof configFileSchema>;
/** What you may write: the same, with defaults optional. */
export type SwitchyardConfigInput = z.input<typeof configFileSchema>;

/**
 * "binding "orders": write.require: ..." — the path read the way an operator reads the file.
 * Returns the binding (or broker) named by the path, if any.
 */
export function describePath(path: readonly PropertyKey[]): {
  where: string;
  binding?: string;
  broker?: string;
} {
  const [section, name, ...rest] = path.map(String);
  const field = rest.join('.');
  if (section === 'bindings' && name !== undefined) {
    return { where: `binding "${name}"${field ? ` field ${field}` : ''}`, binding: name };
  }
  if (section === 'brokers' && name !== undefined) {
    return { where: `broker "${name}"${field ? ` field ${field}` : ''}`, broker: name };
  }
  return { where: path.length > 0 ? `field ${path.join('.')}` : 'top level' };
}
