// A driver instance on the real broker (127.0.0.1:5672) beside an admin connection, with a fresh
// exchange for the test: the set-up and tear-down the driver's own broker tests share.

import { randomBytes } from 'node:crypto';
import { silentLogger } from '@switchyard/core';
import type { Driver, DriverConsumerOptions } from '@switchyard/core/driver';
import amqp, { type ConfirmChannel } from 'amqplib';
import { driver } from '../src/driver.js';

export const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** A driver consumer's options as core passes them: group `g`, nothing else set. */
export function consumerOptions(prefetch: number): DriverConsumerOptions {
  return {
    group: 'g',
    filter: {},
    prefetch,
    visibilityTimeoutMs: undefined,
    startFrom: undefined,
    deadLetter: undefined,
    driverOptions: {},
  };
}

export interface DriverFixture {
  /** The test's exchange (a topic exchange, not durable). */
  readonly name: string;
  /** A confirm channel on the admin connection. */
  readonly setup: ConfirmChannel;
  readonly instance: Driver;
  /** Closes the driver, deletes `queues` and the exchange, closes the admin connection. */
  close(queues: Array<string | undefined>): Promise<void>;
}

export async function driverFixture(prefix: string): Promise<DriverFixture> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const admin = await amqp.connect(BROKER_URL);
  const setup = await admin.createConfirmChannel();
  await setup.assertExchange(name, 'topic', { durable: false, autoDelete: false });
  const instance = await driver.create(driver.fromUrl(new URL(BROKER_URL)), {
    logger: silentLogger,
    status: () => {},
  });
  return {
    name,
    setup,
    instance,
    async close(queues) {
      await instance.close();
      for (const queue of queues) if (queue !== undefined) await setup.deleteQueue(queue).catch(() => {});
      await setup.deleteExchange(name).catch(() => {});
      await admin.close();
    },
  };
}
