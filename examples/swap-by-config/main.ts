// One service, every backend: the service below knows only the binding name "orders". Which
// broker stands behind it is decided outside the code:
//
//   SWITCHYARD_URL='amqp://guest:guest@127.0.0.1:5672' npx tsx --conditions=switchyard-source examples/swap-by-config/main.ts
//   SWITCHYARD_CONFIG=./switchyard.config.yaml npx tsx --conditions=switchyard-source examples/swap-by-config/main.ts [binding]
//
// With neither set, it runs the same service against every backend it can reach, each through a
// generated config file whose "orders" binding points at that backend: memory, RabbitMQ
// (127.0.0.1:5672), CMQ and Pulsar over HTTP (an in-process TDMQ emulator), and RocketMQ when the
// @switchyard/rocketmq package is installed.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BindingConsumer,
  type BindingProducer,
  type Broker,
  connect,
  fromConfig,
} from '@switchyard/core';

// ---- the service: the only code a team writes ----

interface Messaging {
  producer(binding: string): Promise<BindingProducer>;
  consumer(binding: string): Promise<BindingConsumer>;
}

async function orderService(messaging: Messaging, run: string): Promise<string[]> {
  // Subscribe first: on topic-like brokers a group sees messages sent after it exists.
  const consumer = await messaging.consumer('orders');
  const producer = await messaging.producer('orders');
  const orders = [1, 2, 3].map((n) => ({
    body: { order: n, items: ['tea'] },
    key: `order-${n}`,
    headers: { run, service: 'checkout' },
  }));
  await producer.send(orders);
  const handled: string[] = [];
  const deadline = Date.now() + 30_000;
  while (handled.length < orders.length && Date.now() < deadline) {
    for (const message of await consumer.receive({ max: 10, waitMs: 1_000 })) {
      // Messages of an earlier run (same names on a shared broker) are acked and skipped.
      if (message.headers.run === run) handled.push(`${message.key}=${JSON.stringify(message.json())}`);
      await message.ack();
    }
  }
  await consumer.close();
  await producer.close();
  return handled.sort();
}

// ---- wiring: URL, config file, or the tour of every backend ----

const run = `${Date.now().toString(36)}-${process.pid}`;

if (process.env.SWITCHYARD_URL) {
  const broker = await connect(process.env.SWITCHYARD_URL);
  const handled = await orderService(overBroker(broker, 'orders'), run);
  console.log(`${broker.driver}: handled ${handled.join(', ')}`);
  await broker.close();
} else if (process.env.SWITCHYARD_CONFIG) {
  const binding = process.argv[2] ?? 'orders';
  const bindings = await fromConfig();
  const handled = await orderService(renamed(bindings, binding), run);
  console.log(`config:${binding}: handled ${handled.join(', ')}`);
  await bindings.close();
} else {
  await tour();
}
console.log('closed cleanly');

/** A broker as a Messaging whose binding names are destination names. */
function overBroker(broker: Broker, prefix: string): Messaging {
  const name = (binding: string) => (binding === 'orders' ? prefix : binding);
  return {
    producer: (binding) => broker.producer(name(binding)),
    consumer: (binding) => broker.consumer(name(binding)),
  };
}

/** Lets a config run use any binding name for the service's "orders". */
function renamed(bindings: Messaging, binding: string): Messaging {
  return {
    producer: (b) => bindings.producer(b === 'orders' ? binding : b),
    consumer: (b) => bindings.consumer(b === 'orders' ? binding : b),
  };
}

async function tour(): Promise<void> {
  const { DEFAULT_CREDENTIALS, startEmulator } = await import('@switchyard/emulator');
  const emulator = await startEmulator({ rocketmq: { longPolling: { minMs: 200, maxMs: 2_000 } } });
  const { secretId, secretKey } = DEFAULT_CREDENTIALS[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'swap-by-config-'));
  const destination = `swap-orders-${run}`.replace(/[^A-Za-z0-9-]/g, '-');
  const cmq = new URL(emulator.endpoints.cmq);
  const api = new URL(emulator.endpoints.api);
  // Broker entries as operations would write them; the secret comes from the environment.
  process.env.SWAP_DEMO_SECRET_KEY = secretKey;
  const backends: Array<{ name: string; broker: string; skip?: string }> = [
    { name: 'memory', broker: 'url: "memory://swap-demo"' },
    {
      name: 'rabbitmq',
      broker: `url: "amqp://guest:\${env:SWAP_DEMO_RABBIT_PASSWORD:-guest}@127.0.0.1:5672"`,
      ...((await reachable('127.0.0.1', 5672)) ? {} : { skip: 'no RabbitMQ server on 127.0.0.1:5672' }),
    },
    {
      name: 'cmq',
      broker: `{ driver: cmq, region: ap-guangzhou, endpoint: "http://${cmq.host}", managementEndpoint: "http://${api.host}", secretId: ${secretId}, secretKey: "\${env:SWAP_DEMO_SECRET_KEY}", bodyMode: envelope, manageTopology: true }`,
    },
    {
      name: 'pulsar-http',
      broker: `url: "pulsar-http+http://${secretId}:\${env:SWAP_DEMO_SECRET_KEY}@${api.host}?region=ap-guangzhou&cluster=pulsar-emulator&namespace=default&mode=envelope"`,
    },
    {
      name: 'rocketmq',
      broker: `url: "rocketmq://${secretId}:\${env:SWAP_DEMO_SECRET_KEY}@${emulator.endpoints.rocketmq}?longPollMs=1000"`,
      ...((await hasPackage('@switchyard/rocketmq'))
        ? {}
        : { skip: '@switchyard/rocketmq is not installed' }),
    },
  ];
  try {
    for (const backend of backends) {
      if (backend.skip !== undefined) {
        console.log(`${backend.name}: skipped (${backend.skip})`);
        continue;
      }
      const path = join(dir, `${backend.name}.yaml`);
      const entry = backend.broker.startsWith('url:') ? `\n    ${backend.broker}` : ` ${backend.broker}`;
      await writeFile(
        path,
        `brokers:\n  main:${entry}\nbindings:\n  orders:\n    broker: main\n    destination: ${destination}\n`,
      );
      const bindings = await fromConfig({ path });
      const handled = await orderService(bindings, run);
      console.log(`${backend.name}: handled ${handled.join(', ')}`);
      await bindings.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function hasPackage(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}
