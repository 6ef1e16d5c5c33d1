// One service, every backend: the service below knows only the binding name "orders". Which
// broker stands behind it is decided outside the code:
//
//   SWITCHYARD_URL='amqp://guest:guest@127.0.0.1:5672' npx tsx --conditions=switchyard-source examples/swap-by-config/main.ts
//   SWITCHYARD_CONFIG=./switchyard.config.yaml npx tsx --conditions=switchyard-source examples/swap-by-config/main.ts [binding]
//
// With neither set, it runs the same service against every backend it can reach, each through a
// generated config file whose "orders" binding points at that backend: memory, RabbitMQ
// (127.0.0.1:5672, when reachable), CMQ, Pulsar over HTTP and RocketMQ over gRPC (5.x) and over
// Remoting (4.x) (an in-process TDMQ emulator), MQTT (Mosquitto on 127.0.0.1:1883, when
// reachable), and prints a table: backend, sent, received, ok.
// This is what `npm start` runs.

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

interface ServiceReport {
  sent: number;
  received: number;
  /** Every order arrived once, with its key, body and headers intact. */
  ok: boolean;
  handled: string[];
}

const ORDERS = 3;

async function orderService(messaging: Messaging, run: string, count = ORDERS): Promise<ServiceReport> {
  // Subscribe first: on topic-like brokers a group sees messages sent after it exists.
  const consumer = await messaging.consumer('orders');
  const producer = await messaging.producer('orders');
  const orders = Array.from({ length: count }, (_, i) => ({
    body: { order: i + 1, items: ['tea'] },
    key: `order-${i + 1}`,
    headers: { run, service: 'checkout' },
  }));
  await producer.send(orders);
  const handled = new Map<string, { body: string; times: number }>();
  let intact = true;
  const deadline = Date.now() + 30_000;
  while (handled.size < orders.length && Date.now() < deadline) {
    for (const message of await consumer.receive({ max: 32, waitMs: 1_000 })) {
      // Messages of an earlier run (same names on a shared broker) are acked and skipped.
      if (message.headers.run === run) {
        const key = message.key ?? '?';
        const body = message.json() as { order?: number };
        const seen = handled.get(key);
        if (seen === undefined) handled.set(key, { body: JSON.stringify(body), times: 1 });
        else seen.times += 1;
        intact &&= key === `order-${body.order}` && message.headers.service === 'checkout';
      }
      await message.ack();
    }
  }
  await consumer.close();
  await producer.close();
  const received = [...handled.values()].reduce((sum, h) => sum + h.times, 0);
  const byOrder = (a: string, b: string) =>
    Number(a.slice('order-'.length)) - Number(b.slice('order-'.length));
  return {
    sent: orders.length,
    received,
    ok: intact && handled.size === orders.length && received === orders.length,
    handled: [...handled.keys()].sort(byOrder).map((key) => `${key}=${handled.get(key)?.body}`),
  };
}

// ---- wiring: URL, config file, or the tour of every backend ----

const run = `${Date.now().toString(36)}-${process.pid}`;

if (process.env.SWITCHYARD_URL) {
  const broker = await connect(process.env.SWITCHYARD_URL);
  const report = await orderService(overBroker(broker, 'orders'), run);
  console.log(`${broker.driver}: handled ${report.handled.join(', ')}`);
  await broker.close();
  if (!report.ok) process.exitCode = 1;
} else if (process.env.SWITCHYARD_CONFIG) {
  const binding = process.argv[2] ?? 'orders';
  const bindings = await fromConfig();
  const report = await orderService(renamed(bindings, binding), run);
  console.log(`config:${binding}: handled ${report.handled.join(', ')}`);
  await bindings.close();
  if (!report.ok) process.exitCode = 1;
} else {
  await tour(Number(process.env.SWAP_DEMO_ORDERS ?? 100));
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

async function tour(count: number): Promise<void> {
  const { DEFAULT_CREDENTIALS, startEmulator } = await import('@switchyard/emulator');
  const emulator = await startEmulator({ rocketmq: { longPolling: { minMs: 200, maxMs: 2_000 } } });
  const { secretId, secretKey } = DEFAULT_CREDENTIALS[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'swap-by-config-'));
  const destination = `swap-orders-${run}`.replace(/[^A-Za-z0-9-]/g, '-');
  const cmq = new URL(emulator.endpoints.cmq);
  const api = new URL(emulator.endpoints.api);
  // Broker entries as operations would write them; the secret comes from the environment.
  process.env.SWAP_DEMO_SECRET_KEY = secretKey;
  const rocketmqSkip = (await hasPackage('@switchyard/rocketmq'))
    ? {}
    : { skip: '@switchyard/rocketmq is not installed' };
  const backends: Array<{ name: string; broker: string; skip?: string }> = [
    { name: 'memory', broker: 'url: "memory://swap-demo"' },
    {
      name: 'rabbitmq',
      // Each run uses fresh names; x-expires lets the broker remove the run's queue afterwards.
      broker: `url: "amqp://guest:\${env:SWAP_DEMO_RABBIT_PASSWORD:-guest}@127.0.0.1:5672?queueExpiresMs=60000"`,
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
      ...rocketmqSkip,
    },
    {
      // The same driver over RocketMQ 4.x's Remoting protocol: the emulator's name server.
      name: 'rocketmq (remoting)',
      broker: `url: "rocketmq+remoting://${secretId}:\${env:SWAP_DEMO_SECRET_KEY}@${emulator.endpoints.remoting}?longPollMs=1000"`,
      ...rocketmqSkip,
    },
    {
      // MQTT 5 on Mosquitto: the binding's group is a shared subscription $share/<group>/<topic>.
      name: 'mqtt',
      broker: 'url: "mqtt://127.0.0.1:1883?clientIdPrefix=swap-demo-"',
      ...((await reachable('127.0.0.1', 1883)) ? {} : { skip: 'no MQTT broker on 127.0.0.1:1883' }),
    },
  ];
  console.log(`one order service, ${count} orders, on every backend; each chosen by a config file\n`);
  const rows: string[][] = [];
  try {
    for (const backend of backends) {
      if (backend.skip !== undefined) {
        rows.push([backend.name, '-', '-', `skipped: ${backend.skip}`, '-']);
        continue;
      }
      // Each backend gets names of its own: the emulator's two RocketMQ transports share one store,
      // and the Remoting run's group (no committed offset yet) would read the gRPC run's orders too.
      const slug = backend.name.replace(/\W+/g, '-').replace(/-$/, '');
      const path = join(dir, `${slug}.yaml`);
      const entry = backend.broker.startsWith('url:') ? `\n    ${backend.broker}` : ` ${backend.broker}`;
      await writeFile(
        path,
        `brokers:\n  main:${entry}\nbindings:\n  orders:\n    broker: main\n    destination: ${destination}-${slug}\n`,
      );
      const started = performance.now();
      const bindings = await fromConfig({ path });
      try {
        const report = await orderService(bindings, run, count);
        const ms = Math.round(performance.now() - started);
        rows.push([backend.name, `${report.sent}`, `${report.received}`, report.ok ? 'yes' : 'NO', `${ms}`]);
        if (!report.ok) process.exitCode = 1;
      } catch (error) {
        // One backend failing must not hide the others: report it in the table, fail the run.
        rows.push([backend.name, '-', '-', `NO: ${error instanceof Error ? error.message : error}`, '-']);
        process.exitCode = 1;
      } finally {
        await bindings.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await emulator.stop();
  }
  printTable(['backend', 'sent', 'received', 'ok', 'ms'], rows);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
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
