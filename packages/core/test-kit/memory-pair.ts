// Test-only: a memory driver with one consumer and one producer on `q` (the driver contract's
// calls, no portable layer), and a stored message for the memory subscription's own tests.

import type { Driver, DriverConsumer } from '../src/driver-entry.js';
import { silentLogger } from '../src/logger.js';
import { memoryCapabilities, memoryDriver } from '../src/memory/driver.js';
import type { StoredMessage } from '../src/memory/types.js';
import { prepareOutgoing } from '../src/outgoing.js';

export async function memoryPair(
  name: string,
  profile: 'full' | 'minimal' = 'full',
): Promise<{ driver: Driver; consumer: DriverConsumer; send: (...bodies: string[]) => Promise<void> }> {
  const driver = await memoryDriver.create(memoryDriver.parseConfig({ name, profile }), {
    logger: silentLogger,
    status: () => {},
  });
  const consumer = await driver.openConsumer('q', {
    group: 'g',
    filter: {},
    prefetch: 100,
    visibilityTimeoutMs: undefined,
    startFrom: undefined,
    deadLetter: undefined,
    driverOptions: {},
  });
  const producer = await driver.openProducer('q', { driverOptions: {} });
  const send = async (...bodies: string[]) => {
    await producer.sendBatch(bodies.map((b) => prepareOutgoing(b, memoryCapabilities, 'memory')));
  };
  return { driver, consumer, send };
}

/** A stored message with nothing but an id (and an ordering key, when given). */
export const storedMessage = (id: string, orderingKey?: string): StoredMessage => ({
  id,
  body: new Uint8Array(),
  contentType: 'text/plain',
  headers: {},
  key: undefined,
  tags: [],
  routingKey: undefined,
  orderingKey,
  publishedAt: 0,
});
