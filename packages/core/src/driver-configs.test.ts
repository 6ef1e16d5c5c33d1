import { describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import type { DriverConfig } from './driver-configs.js';
import { memoryDriver } from './memory/driver.js';
import { registerDriver } from './registry.js';

// What a driver package does to type its config objects (here a test driver, the memory driver
// under another name), through the package name as a driver would write it.
declare module '@switchyard/core' {
  interface DriverConfigs {
    'typed-test': { name?: string; retention?: number };
  }
}

let stores = 0;
const store = () => `driver-configs-${process.pid}-${stores++}`;

describe('typed config objects per driver (DriverConfigs)', () => {
  it('narrows the fields by driver; declared drivers reject unknown or mistyped fields at compile time', async () => {
    registerDriver({ ...memoryDriver, name: 'typed-test', schemes: ['typed-test'] });
    const typed = await connect({ driver: 'typed-test', name: store(), retention: 5 });
    await typed.close();
    const memory = await connect({
      driver: 'memory',
      name: store(),
      profile: 'minimal',
      retry: { maxAttempts: 2 },
    });
    expect(memory.capabilities.orderingKeys).toBe(false);
    await memory.close();
    // The run-time checks stay: a cast past the types still fails, naming the field.
    // @ts-expect-error `retension` is not a typed-test field (typo of `retention`)
    await expect(connect({ driver: 'typed-test', retension: 5 })).rejects.toMatchObject({ code: 'CONFIG' });
    // @ts-expect-error `profile` must be 'full' or 'minimal'
    await expect(connect({ driver: 'memory', profile: 'small' })).rejects.toMatchObject({ code: 'CONFIG' });
  });

  it('keeps the open shape for a driver nobody declared, and for a driver name only known at run time', async () => {
    const open: DriverConfig<'not-declared'> = { driver: 'not-declared', anything: 1 };
    expect(open.anything).toBe(1);
    const name: string = 'memory';
    const broker = await connect({ driver: name, name: store() });
    await broker.close();
  });
});
