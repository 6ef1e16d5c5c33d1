// Typed config objects per driver. connect({ driver: 'memory', ... }) checks the fields against
// the memory driver's config type; a driver package adds its own by declaration merging:
//
//   declare module '@switchyard/core' {
//     interface DriverConfigs { rabbitmq: RabbitMqConfigInput }
//   }
//
// A driver nobody declared (a third-party one, or one whose package the program does not import
// as a type) keeps the open shape `{ driver: string; [field: string]: unknown }`, validated at run
// time by the driver as before.

import type { z } from 'zod';
import type { portableBrokerSchema } from './config.js';
import type { MemoryConfig } from './memory/driver.js';

/** Driver name → the fields of its config object (what parseConfig takes), minus `driver`. */
export interface DriverConfigs {
  /** Every field has a default. */
  memory: Partial<MemoryConfig>;
}

/** The portable fields any config object may carry: logger, retry, telemetry. */
export type PortableBrokerFields = z.input<typeof portableBrokerSchema>;

/**
 * The config object for driver `D`: that driver's declared fields plus the portable ones, or the
 * open shape when `D` has no entry in DriverConfigs.
 */
export type DriverConfig<D extends string = string> = D extends keyof DriverConfigs
  ? { readonly driver: D } & DriverConfigs[D] & PortableBrokerFields
  : { readonly driver: D; readonly [field: string]: unknown };
