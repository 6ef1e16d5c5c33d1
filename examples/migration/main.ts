// A CMQ queue service migrated to TDMQ for RocketMQ with no code change, in the order TDMQ
// recommends: read from both, write to both, write to the new one only, drain the old one with
// the bridge, cut over. Each step is a different binding of switchyard.config.yaml; the service
// code below never names a broker. It proves every order reached the business handler exactly
// once: during dual-write each message exists on both brokers and the dual-read consumer gets
// both copies, so the handler is idempotent by message key and counts what it suppressed.
//
//   npx tsx --conditions=switchyard-source examples/migration/main.ts
//
// It starts the TDMQ emulator in-process (CMQ HTTP and RocketMQ gRPC), so it needs no
// credentials. It keeps its orders, its outbox (@switchyard/outbox: during dual-write an order and
// its message commit together, and a relay publishes to both brokers) and its dedup claims
// (@switchyard/dedupe: one row per handled key, surviving restarts) in PostgreSQL:
// SWITCHYARD_EXAMPLE_PG, default postgres://postgres@127.0.0.1:5432/test (npm run services).
// Exit code 0 only if no order was lost or handled twice and the old queue was empty at cut-over.
// relay.ts and service.ts run the relay and the consumer as processes of their own, as deployed;
// test/example-migration-crash.test.ts kills them at random points.

import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runCli } from '@switchyard/cli';
import type { CmqNative } from '@switchyard/cmq';
import {
  type BindingConsumer,
  type BindingProducer,
  type Bindings,
  fromConfig,
  loadConfigFile,
  type Message,
  originOf,
} from '@switchyard/core';
import { PostgresDedupeStore } from '@switchyard/dedupe';
import { startEmulator } from '@switchyard/emulator';
import { ensureOutboxSchema, Outbox, pendingCount, startRelay } from '@switchyard/outbox';
import { createOrdersTable, newPool, type Order, placeOrder } from './orders.js';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'switchyard.config.yaml');
// Tables of this run only, dropped at the end, so runs side by side never meet.
const RUN = randomBytes(4).toString('hex');
const TABLES = {
  orders: `example_orders_${RUN}`,
  outbox: `example_outbox_${RUN}`,
  dedupe: `example_dedupe_${RUN}`,
};
const pool = newPool(4);

// ---- the service: the only code the team writes ----

/**
 * The business side, idempotent by message key: the first delivery of a key claims it in the
 * PostgreSQL dedup store and runs the business logic; a later delivery of the same key (the other
 * broker's copy during dual-write, the bridge's copy, or a broker's redelivery) is acked and
 * counted, never handled again, even after a restart. (Not the message id: RocketMQ assigns its
 * own, so the two copies of one message have different ids.)
 */
class OrderService {
  /** Business-handler invocations per key: the number that must be exactly 1. */
  readonly handled = new Map<string, number>();
  /** Deliveries per key, duplicates included. */
  readonly delivered = new Map<string, number>();
  duplicates = 0;
  readonly #store: PostgresDedupeStore;

  constructor(store: PostgresDedupeStore) {
    this.#store = store;
  }

  async onMessage(message: Message): Promise<'handled' | 'duplicate'> {
    const key = message.key;
    if (key === undefined) throw new Error(`message ${message.id} has no key: it cannot be deduplicated`);
    this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
    // One process handles one message at a time here, so a key is never 'busy' (claimed by a live
    // holder): only 'claimed' (new) or 'done' (handled within the window).
    const claim = await this.#store.claim(key, 30_000);
    if (claim.status !== 'claimed') {
      this.duplicates++;
      await message.ack();
      return 'duplicate';
    }
    try {
      this.#business(key, message.json() as Order);
    } catch (error) {
      await this.#store.release(key, claim.token); // not done: the redelivery will do it
      await message.nack();
      throw error;
    }
    await this.#store.commit(key, claim.token, 24 * 3600_000);
    await message.ack();
    return 'handled';
  }

  #business(key: string, _order: Order): void {
    this.handled.set(key, (this.handled.get(key) ?? 0) + 1);
  }
}

/** The service deployed with one binding: its producer and consumer, as the config says. */
interface Deployment {
  readonly binding: string;
  readonly bindings: Bindings;
  readonly producer: BindingProducer;
  readonly consumer: BindingConsumer;
  stop(): Promise<void>;
}

async function deploy(binding: string): Promise<Deployment> {
  const bindings = await fromConfig({ path: CONFIG });
  // Consumer first: a RocketMQ subscription sees the messages sent after it exists.
  const consumer = await bindings.consumer(binding);
  const producer = await bindings.producer(binding);
  let stopping: Promise<void> | undefined;
  return {
    binding,
    bindings,
    producer,
    consumer,
    stop() {
      // Closing gives what the consumer prefetched but did not hand out back to its own broker.
      stopping ??= (async () => {
        await consumer.close();
        await producer.close();
        await bindings.close();
      })();
      return stopping;
    },
  };
}

/** "writes cmq; reads cmq + rocketmq", from the binding as the config file resolves it. */
function shape(d: Deployment): string {
  const b = d.bindings.binding(d.binding);
  const write = `writes ${b.write.map((s) => s.broker).join(' + ')}${b.write.length === 2 ? ` (require ${b.require})` : ''}`;
  return `${write}; reads ${b.read.map((s) => s.broker).join(' + ')}`;
}

let nextOrder = 1;
/** Sends `count` new orders in one call; returns their keys. */
async function sendOrders(producer: BindingProducer, count: number, phase: string): Promise<string[]> {
  const numbers = Array.from({ length: count }, () => nextOrder++);
  await producer.send(
    numbers.map((n) => ({
      body: { order: n, amount: 10 + (n % 7) } satisfies Order,
      key: `order-${n}`,
      headers: { 'x-phase': phase },
    })),
  );
  return numbers.map((n) => `order-${n}`);
}

const outbox = new Outbox({ table: TABLES.outbox });

/**
 * Dual-write the way it survives a crash: each order row and its message commit in one
 * transaction (orders.ts), and a relay publishes the outbox through the binding (to both brokers,
 * the row marked sent once both confirmed). Returns once every row was published. In production
 * the relay is a process of its own (relay.ts, or `switchyard relay --url config:`).
 */
async function placeOrdersThroughOutbox(d: Deployment, count: number, phase: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++)
    keys.push(await placeOrder(pool, outbox, TABLES, d.binding, nextOrder++, { 'x-phase': phase }));
  const relay = startRelay({ pool, broker: d.bindings, table: TABLES.outbox, pollMs: 20 });
  while ((await pendingCount(pool, { table: TABLES.outbox })) > 0) await relay.drained();
  await relay.stop();
  return keys;
}

interface Window {
  handled: number;
  duplicate: number;
  from: Record<string, number>;
}

/** Runs the service's consumer until `done(window)` holds (checked before every receive). */
async function serve(
  d: Deployment,
  service: OrderService,
  done: (w: Window) => boolean | Promise<boolean>,
  label: string,
  timeoutMs = 15_000,
): Promise<Window> {
  const window: Window = { handled: 0, duplicate: 0, from: {} };
  const single = d.bindings.binding(d.binding).read[0]!.broker;
  const deadline = Date.now() + timeoutMs;
  while (!(await done(window))) {
    if (Date.now() > deadline) throw new Error(`${label}: the service gave up waiting after ${timeoutMs} ms`);
    for (const message of await d.consumer.receive({ max: 1, waitMs: 250 }))
      await count(window, message, single, service);
  }
  return window;
}

async function count(window: Window, message: Message, single: string, service: OrderService): Promise<void> {
  const origin = originOf(message) ?? single;
  window.from[origin] = (window.from[origin] ?? 0) + 1;
  window[await service.onMessage(message)]++;
}

function windowText(w: Window): string {
  const from = Object.entries(w.from)
    .map(([broker, n]) => `${n} from ${broker}`)
    .join(', ');
  return `service: ${w.handled + w.duplicate} deliveries (${from || 'none'}) → handled ${w.handled} new orders, suppressed ${w.duplicate} duplicates`;
}

// ---- operations: the emulator stands in for TDMQ; the config, the CLI and the checks are real ----

const started = Date.now();
function log(phase: string, text: string): void {
  const at = ((Date.now() - started) / 1000).toFixed(1).padStart(4);
  console.log(`[${at} s] ${phase.padEnd(6)} ${text}`);
}

const cmqCredential = { secretId: 'AKIDORDERSMIGRATION', secretKey: randomBytes(16).toString('hex') };
const rocketCredential = { secretId: 'orders-role-token', secretKey: 'orders-role' };
const emulator = await startEmulator({
  credentials: [cmqCredential, rocketCredential],
  rocketmq: { autoCreate: false, allowAnonymous: false, longPolling: { minMs: 200, maxMs: 1_000 } },
});
// What the deployment environment provides; the config file references these variables by name.
Object.assign(process.env, {
  CMQ_ENDPOINT: emulator.endpoints.cmq,
  CMQ_SECRET_ID: cmqCredential.secretId,
  CMQ_SECRET_KEY: cmqCredential.secretKey,
  ROCKETMQ_ENDPOINTS: emulator.endpoints.rocketmq,
  ROCKETMQ_ROLE_TOKEN: rocketCredential.secretId,
  ROCKETMQ_ROLE_NAME: rocketCredential.secretKey,
});

// What the TDMQ console does before the migration: the old queue exists; the new topic and its
// consumer group are created (a RocketMQ client cannot create them). Names from the config file.
const { config } = await loadConfigFile({ path: CONFIG });
const queue = config.bindings['orders.old']!.source!;
const rocket = config.brokers.rocketmq as { cluster: string; namespace: string };
const fullName = (name: string) => `${rocket.cluster}|${rocket.namespace}%${name}`;
// A short visibility timeout keeps the example quick: a consumer stopped in the middle of a
// receive leaves what CMQ had just handed it in flight until that timeout ends (30 s by default);
// the cut-over below waits for such messages too.
emulator.engines.cmq.createQueue(queue, { visibilityTimeout: 5 });
emulator.engines.rocketmq.createTopic(fullName(config.bindings['orders.after']!.destination!), {
  type: 'NORMAL',
});
emulator.engines.rocketmq.createGroup(fullName(config.bindings['orders.after']!.group!));

// The operator's own view of the brokers (for the backlog checks), apart from the service's.
const ops = await fromConfig({ path: CONFIG });

/** The old queue as an operator sees it: CMQ GetQueueAttributes, through the driver's escape hatch. */
async function oldQueue() {
  const cmq = (await ops.broker('cmq')).unwrap<CmqNative>();
  const reply = await cmq.http.call('GetQueueAttributes', { queueName: queue }, { idempotent: true });
  const count = (field: string) => Number((reply as Record<string, unknown>)[field] ?? Number.NaN);
  const [active, inFlight, delayed] = [count('activeMsgNum'), count('inactiveMsgNum'), count('delayMsgNum')];
  return {
    total: active + inFlight + delayed,
    text: `${active} waiting, ${inFlight} in flight, ${delayed} delayed`,
  };
}

/** Runs the `switchyard` command in-process (the code the bin runs), capturing its output. */
async function switchyard(args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const sink = (lines: string[]) =>
    new Writable({
      write(chunk, _encoding, callback) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        callback();
      },
    });
  const code = await runCli([...args, '--config', CONFIG], {
    stdout: sink(stdout),
    stderr: sink(stderr),
    stdin: Readable.from([]),
  });
  return { code, stdout, stderr };
}

await createOrdersTable(pool, TABLES);
await ensureOutboxSchema(pool, { table: TABLES.outbox });
const dedupe = new PostgresDedupeStore({ pool, table: TABLES.dedupe });
await dedupe.ensureSchema();
const service = new OrderService(dedupe);
const sent: string[] = [];
const dualWritten = new Set<string>();
/** Copies of an order that reach the consumer: two if it was written to both brokers. */
const expectedCopies = (key: string) => (dualWritten.has(key) ? 2 : 1);
let bridged = 0;
let atCutOver = { total: -1, text: 'not reached' };
let failure: unknown;
let current: Deployment | undefined;

async function redeploy(binding: string, phase: string): Promise<Deployment> {
  const change = current !== undefined;
  await current?.stop();
  current = await deploy(binding);
  log(
    phase,
    `${change ? 'config change, service restarted' : 'service started'}: binding ${binding} (${shape(current)})`,
  );
  return current;
}

try {
  // Preflight: the CLI's doctor on the dual-write binding, before anything moves.
  const doctor = await switchyard(['doctor', '--url', 'config:orders.write-both', '--timeout', '3000']);
  log('check', `switchyard doctor --url config:orders.write-both → exit ${doctor.code}`);
  for (const line of doctor.stdout) log('', `  ${line}`);
  if (doctor.code !== 0) throw new Error(`switchyard doctor failed: ${doctor.stderr.join(' ')}`);

  // (a) The service runs on CMQ. Its consumer is slower than its producer: a backlog builds up.
  let d = await redeploy('orders.before', '(a)');
  sent.push(...(await sendOrders(d.producer, 40, 'a')));
  log('(a)', 'sent orders 1-40 to CMQ');
  log('(a)', windowText(await serve(d, service, (w) => w.handled >= 10, '(a)')));

  await d.stop();
  log('(a)', `service stopped for the next step; old queue (GetQueueAttributes): ${(await oldQueue()).text}`);

  // (b) Read from both. Producers still write to CMQ only.
  d = await redeploy('orders.read-both', '(b)');
  sent.push(...(await sendOrders(d.producer, 10, 'b')));
  log('(b)', 'sent orders 41-50 to CMQ');
  log('(b)', windowText(await serve(d, service, (w) => w.handled >= 10, '(b)')));

  // (c) Write to both while reading both: every message from now on arrives twice.
  d = await redeploy('orders.write-both', '(c)');
  const both = await placeOrdersThroughOutbox(d, 20, 'c');
  sent.push(...both);
  for (const key of both) dualWritten.add(key);
  log(
    '(c)',
    'placed orders 51-70: each order row and its outbox row in one PostgreSQL transaction; the relay published them to CMQ and RocketMQ (each row marked sent once both accepted it)',
  );
  log('(c)', windowText(await serve(d, service, (w) => w.handled >= 10, '(c)')));

  // (d) Write to the new one only; keep reading both while CMQ holds a backlog.
  d = await redeploy('orders.write-new', '(d)');
  sent.push(...(await sendOrders(d.producer, 10, 'd')));
  log('(d)', 'sent orders 71-80 to RocketMQ');
  log('(d)', windowText(await serve(d, service, (w) => w.handled >= 10, '(d)')));
  log('(d)', `old queue: ${(await oldQueue()).text} (held by the service's prefetch)`);

  // (e) Drain the old one: the CLI's bridge moves the CMQ backlog into RocketMQ while the service
  // keeps running. Each message is acked on CMQ only after RocketMQ confirmed it.
  const args = ['bridge', '--from', 'config:orders.old', '--to', 'config:orders.new', '--idle', '1000'];
  log('(e)', `switchyard ${args.join(' ')} --batch 16 --json`);
  let bridgeDone = false;
  const bridge = switchyard([...args, '--batch', '16', '--json']).finally(() => {
    bridgeDone = true;
  });
  // Meanwhile the service keeps running (it competes with the bridge for the CMQ queue), until the
  // bridge stopped and the old queue is empty: nothing waiting, nothing in flight, nothing delayed.
  const serving = serve(
    d,
    service,
    async () => {
      if (!bridgeDone) return false;
      atCutOver = await oldQueue();
      return atCutOver.total === 0;
    },
    '(e)',
    20_000,
  );
  const [result, during] = await Promise.all([bridge, serving]);
  const summary = JSON.parse(result.stdout.at(-1) ?? '{}') as { bridged?: number; ok?: boolean };
  log('(e)', `  ${result.stdout.at(-1) ?? '(no output)'}`);
  if (result.code !== 0 || summary.ok !== true)
    throw new Error(`the bridge failed (exit ${result.code}): ${result.stderr.join(' ')}`);
  bridged = summary.bridged ?? 0;
  log('(e)', `the bridge moved ${bridged} messages from CMQ to RocketMQ`);
  log('(e)', windowText(during));
  log('(e)', `old queue: ${atCutOver.text}`);
  // The emulator's own count agrees with what the API said.
  const engine = emulator.engines.cmq.getQueueAttributes(queue);
  if (engine.activeMsgNum + engine.inactiveMsgNum + engine.delayMsgNum !== 0)
    throw new Error(`the old queue is not empty at cut-over: ${JSON.stringify(engine)}`);

  // (f) Cut over: RocketMQ only. Run until every order was handled and every copy was seen.
  d = await redeploy('orders.after', '(f)');
  sent.push(...(await sendOrders(d.producer, 10, 'f')));
  log('(f)', 'sent orders 81-90 to RocketMQ');
  const allSeen = () =>
    sent.every((key) => service.handled.has(key) && (service.delivered.get(key) ?? 0) >= expectedCopies(key));
  const f = await serve(d, service, allSeen, '(f)');
  // Then until nothing came for 750 ms, so a late redelivery would be seen (and counted) too.
  for (let batch = await d.consumer.receive({ max: 16, waitMs: 750 }); batch.length > 0; ) {
    for (const message of batch)
      await count(f, message, d.bindings.binding(d.binding).read[0]!.broker, service);
    batch = await d.consumer.receive({ max: 16, waitMs: 750 });
  }
  log('(f)', windowText(f));
} catch (error) {
  failure = error;
} finally {
  await current?.stop().catch(() => {});
  await ops.close().catch(() => {});
  await sleep(200); // the RocketMQ client says goodbye to the server: stop the server after it
  await emulator.stop();
  await dedupe.close().catch(() => {});
  for (const table of Object.values(TABLES))
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
  await pool.end();
}

// ---- the proof ----

const lost = sent.filter((key) => !service.handled.has(key));
const twice = [...service.handled].filter(([, n]) => n > 1).map(([key]) => key);
const deliveries = [...service.delivered.values()].reduce((a, b) => a + b, 0);
const copies = sent.reduce((n, key) => n + expectedCopies(key), 0);
// Per key: copies it should have had delivered, and deliveries beyond them (broker redeliveries).
const unseen = sent.reduce(
  (n, key) => n + Math.max(0, expectedCopies(key) - (service.delivered.get(key) ?? 0)),
  0,
);
const redelivered = sent.reduce(
  (n, key) => n + Math.max(0, (service.delivered.get(key) ?? 0) - expectedCopies(key)),
  0,
);
const ok =
  failure === undefined && lost.length === 0 && twice.length === 0 && atCutOver.total === 0 && unseen === 0;
console.log('');
console.log('summary');
console.log(`  orders sent (unique keys):        ${sent.length}`);
console.log(
  `  copies written:                   ${copies} (${dualWritten.size} orders went to both brokers)`,
);
console.log(`  moved by the bridge:              ${bridged}`);
console.log(`  deliveries to the service:        ${deliveries}`);
console.log(`  unique keys handled:              ${service.handled.size}`);
console.log(
  `  duplicate deliveries suppressed:  ${service.duplicates} (${service.duplicates - redelivered} second copies from dual-write, ${redelivered} broker redeliveries)`,
);
console.log(`  copies never delivered:           ${unseen}`);
console.log(
  `  handled twice:                    ${twice.length}${twice.length ? ` (${twice.join(', ')})` : ''}`,
);
console.log(
  `  lost:                             ${lost.length}${lost.length ? ` (${lost.join(', ')})` : ''}`,
);
console.log(`  old CMQ queue at cut-over:        ${atCutOver.text}`);
if (failure !== undefined)
  console.log(`  error: ${failure instanceof Error ? failure.message : String(failure)}`);
console.log(ok ? 'exactly once: every order handled once, none lost' : 'NOT exactly once');
process.exitCode = ok ? 0 : 1;
