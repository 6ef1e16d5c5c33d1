// A driver module named `name` whose drivers are the real memory driver, wrapped: the test-only
// drivers (faults at the boundary, push consumers) each change a few calls of it.

import type { Driver, DriverModule } from '../src/driver.js';
import { memoryDriver } from '../src/memory/driver.js';

export function memoryWrapped(name: string, wrap: (inner: Driver) => Driver): DriverModule {
  return {
    ...memoryDriver,
    name,
    schemes: [name],
    async create(config, context) {
      return wrap(await memoryDriver.create(memoryDriver.parseConfig(config), context));
    },
  };
}
