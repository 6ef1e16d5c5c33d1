// The rabbitmq driver's consumer with a visibility timeout (core's Leases on every delivery), alone
// and under run(), drained from bench/fake-amqp.ts as bench/profile-rabbitmq-inproc.ts drains it
// (no broker, no socket, PER_READ deliveries per read). For instructions per message under
// valgrind, difference runs of 2 and 4 rounds over 2 × count, with WARM=4:
//   valgrind --tool=cachegrind --cache-sim=no node --import tsx --conditions=switchyard-source \
//     bench/profile-rabbitmq-leases.ts driver|sy 20000 2
// VISIBILITY_MS=0 opens the consumers without one (no leases), for the leases' share.

import { randomBytes } from 'node:crypto';
import { connect, silentLogger } from '@switchyard/core';
import { driver as rabbitDriver } from '@switchyard/rabbitmq';
import { FAKE_AMQP_URL, FakeAmqp } from './fake-amqp.js';
import { benchConsumerOptions } from './measure.js';
import { runUntil } from './rabbitmq-drains.js';

const side = process.argv[2] ?? 'driver';
const count = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 5);
const bytes = Number(process.argv[5] ?? 256);
const PREFETCH = 200;
const visibility = Number(process.env.VISIBILITY_MS ?? 60_000) || undefined;
const name = 'leases';
const queue = `${name}.bench`;

const fake = new FakeAmqp({ perRead: Number(process.env.PER_READ ?? 10), body: randomBytes(bytes) });
const driverInstance = await rabbitDriver.create(rabbitDriver.fromUrl(new URL(FAKE_AMQP_URL)), {
  logger: silentLogger,
  status: () => {},
});
const broker = await connect(FAKE_AMQP_URL, { logger: silentLogger });

const sides: Record<string, (n: number) => Promise<void>> = {
  async driver(n) {
    const consumer = await driverInstance.openConsumer(name, {
      ...benchConsumerOptions(PREFETCH),
      visibilityTimeoutMs: visibility,
    });
    for (let seen = 0; seen < n; ) {
      const batch = await consumer.receiveBatch(PREFETCH, 1_000);
      seen += batch.length;
      await consumer.ack(batch);
    }
    await consumer.close();
  },
  async sy(n) {
    const consumer = await broker.consumer(name, {
      group: 'bench',
      prefetch: PREFETCH,
      visibilityTimeoutMs: visibility,
    });
    await runUntil(consumer, n);
    await consumer.close();
  },
};
const run = sides[side];
if (run === undefined) throw new Error(`unknown side "${side}": driver or sy`);

async function drain(n: number, quiet: boolean): Promise<void> {
  fake.fill(queue, n);
  const cpu = process.cpuUsage();
  await run!(n);
  const used = process.cpuUsage(cpu);
  if (!quiet) console.log(`${side}: ${((used.user + used.system) / n).toFixed(3)} µs CPU/msg`);
}

await drain(1_000, true);
for (let round = 0; round < Number(process.env.WARM ?? 0); round++) await drain(count, true);
for (let round = 0; round < rounds; round++) await drain(count, false);
await broker.close();
await driverInstance.close();
