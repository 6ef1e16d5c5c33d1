// Poison messages on every flavour: a message whose handler always fails must land in the
// dead-letter destination after exactly `maxDeliveries` deliveries, with its body, its headers,
// the failure reason, the original destination and the attempt count; nothing else may be
// dead-lettered (good messages, and a flaky one that fails once and then succeeds, are not).
// Each flavour records its row in the poison table of docs/reliability.md.
//
// Setups are minimal copies of the conformance harnesses (test/conformance-*.test.ts), kept here so
// those files stay untouched. CMQ and Pulsar over HTTP use envelope bodies, the mode that carries
// headers; the raw-mode rows show what a headerless flavour keeps.

import { randomUUID } from 'node:crypto';
import { cmqCapabilities } from '@switchyard/cmq';
import {
  type Broker,
  type Capabilities,
  connect,
  DeadLetterHeaders,
  type MemoryStore,
  type Message,
  memoryCapabilities,
  minimalMemoryCapabilities,
} from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { type NackMode, pulsarHttpCapabilities } from '@switchyard/pulsar-http';
import { rabbitCapabilities } from '@switchyard/rabbitmq';
import { rocketmqCapabilities } from '@switchyard/rocketmq';
import { afterAll, describe, expect, it } from 'vitest';
import * as cmqSupport from '../packages/cmq/src/test-support.js';
import * as rocketSupport from '../packages/rocketmq/src/test-support.js';
import { startPulsarHttpEnv } from './pulsar-http-support.js';
import { BROKER_HOST, BROKER_PORT, createTestVhost } from './rabbitmq-helpers.js';
import { recordPoison } from './reliability-report.js';

const MAX_DELIVERIES = 3;
const REASON = 'always fails: schema check rejected order 42 (poison-7f3a)';
const GOOD = 4;

interface Setup {
  readonly broker: Broker;
  readonly caps: Readonly<Capabilities>;
  /** Creates a destination as an operator would (or nothing, where the driver declares it). */
  destination(prefix: string): Promise<string>;
  /** Visibility timeout for the consumer, where the flavour has one. */
  readonly visibilityMs?: number;
  close(): Promise<void>;
}

interface Flavour {
  readonly flavour: string;
  readonly setup: string;
  start(): Promise<Setup>;
}

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const memory = (profile: 'full' | 'minimal'): Flavour => ({
  flavour: `memory (${profile})`,
  setup: 'embedded broker',
  async start() {
    const name = `poison-${profile}-${process.pid}`;
    const broker = await connect({
      driver: 'memory',
      name,
      autoCreate: false,
      profile,
      visibilityTimeoutMs: 30_000,
    });
    const store = broker.unwrap<MemoryStore>();
    return {
      broker,
      caps: profile === 'full' ? memoryCapabilities : minimalMemoryCapabilities,
      async destination(prefix) {
        const dest = unique(prefix);
        store.createTopic(dest);
        return dest;
      },
      close: () => broker.close({ timeoutMs: 5_000 }),
    };
  },
});

const rabbit = (queueType: 'classic' | 'quorum'): Flavour => ({
  flavour: `rabbitmq (${queueType})`,
  setup: 'topic exchange, driver declares topology',
  async start() {
    const test = await createTestVhost(`poison-${queueType}`);
    const settings = { queueType, exchangeType: 'topic', topology: 'declare' } as const;
    const broker = await connect({
      driver: 'rabbitmq',
      host: BROKER_HOST,
      port: BROKER_PORT,
      username: test.user,
      password: test.password,
      vhost: test.vhost,
      ...settings,
    });
    return {
      broker,
      caps: rabbitCapabilities({ ...settings, delayLevels: 30, maxMessageBytes: 16 * 1024 * 1024 }),
      // The driver declares the exchange (producer) and the group's queue (consumer).
      destination: async (prefix) => unique(prefix),
      visibilityMs: 2_000,
      async close() {
        await broker.close({ timeoutMs: 5_000 });
        await test.cleanup();
      },
    };
  },
});

const cmq = (
  model: 'queue' | 'topic',
  bodyMode: 'envelope' | 'raw',
  nackMode: 'visibility' | 'requeue',
  deadLetter: 'emulated' | 'native' = 'emulated',
): Flavour => ({
  flavour: `cmq ${model}`,
  setup: `${bodyMode} bodies, nack by ${nackMode === 'requeue' ? 'requeue' : 'visibility timeout'}${deadLetter === 'native' ? ', CMQ dead-letter policy' : ''}`,
  async start() {
    const emulator: RunningEmulator = await cmqSupport.startTestEmulator();
    const engine = emulator.engines.cmq;
    const broker = await cmqSupport.connectTo(emulator, {
      model,
      bodyMode,
      nackMode,
      deadLetter,
      manageTopology: true,
      visibilityTimeoutMs: 2_000,
    });
    return {
      broker,
      caps: cmqCapabilities({
        model,
        topicFilter: 'tag',
        bodyMode,
        manageTopology: true,
        deadLetter,
        nackMode,
        maxMessageBytes: 65_536,
      }),
      async destination(prefix) {
        const dest = unique(prefix);
        if (model === 'topic') engine.createTopic(dest, { filterType: 1 });
        else engine.createQueue(dest, { visibilityTimeout: 2 });
        return dest;
      },
      visibilityMs: 1_000,
      async close() {
        await broker.close({ timeoutMs: 5_000 });
        await emulator.stop();
      },
    };
  },
});

/** Shortened from TDMQ's minimum of 60 s so redelivery by the ack timeout fits the test. */
const PULSAR_HTTP_ACK_TIMEOUT_MS = 2_000;

// Each row names its nack mode: 'ack-timeout' (default: a failed message stays on its
// subscription and returns after the topic's ack timeout, counted per MessageID in this process)
// or 'retry-topic' (opt-in: copies to the group's retry topic carry the count).
const pulsarHttp = (mode: 'envelope' | 'raw', nackMode: NackMode): Flavour => ({
  flavour: 'pulsar-http',
  setup: `${mode} mode, nackMode ${nackMode}${nackMode === 'ack-timeout' ? ` (ack timeout ${PULSAR_HTTP_ACK_TIMEOUT_MS / 1000} s)` : ''}`,
  async start() {
    const env = await startPulsarHttpEnv({
      namespace: 'poison',
      ...(nackMode === 'ack-timeout' ? { ackTimeoutMs: PULSAR_HTTP_ACK_TIMEOUT_MS } : {}),
    });
    const broker = await connect(env.url({ mode, nackMode, receiveWaitMs: '200' }));
    return {
      broker,
      caps: pulsarHttpCapabilities({ mode, nackMode }),
      async destination(prefix) {
        const dest = unique(prefix);
        await env.createTopic(dest);
        return dest;
      },
      // Retry-topic mode keeps a consumer's visibility timeout; the default mode has only the
      // topic's ack timeout, which also sets the quiet period below.
      visibilityMs: nackMode === 'retry-topic' ? 1_000 : PULSAR_HTTP_ACK_TIMEOUT_MS,
      async close() {
        await broker.close({ timeoutMs: 5_000 });
        await env.close();
      },
    };
  },
});

const rocketmq: Flavour = {
  flavour: 'rocketmq',
  setup: 'MIXED topics, TDMQ full names',
  async start() {
    const emulator = await rocketSupport.startTestEmulator();
    const broker = await rocketSupport.connectTo(emulator);
    return {
      broker,
      caps: rocketmqCapabilities({ topicType: 'MIXED' }),
      async destination(prefix) {
        const dest = unique(prefix);
        emulator.engines.rocketmq.createTopic(rocketSupport.fullName(dest), { type: 'MIXED' });
        return dest;
      },
      visibilityMs: 1_000,
      close: () => rocketSupport.teardown(emulator, [broker]),
    };
  },
};

const flavours: Flavour[] = [
  memory('full'),
  memory('minimal'),
  rabbit('classic'),
  rabbit('quorum'),
  cmq('queue', 'envelope', 'visibility'),
  cmq('queue', 'envelope', 'visibility', 'native'),
  cmq('queue', 'raw', 'visibility'),
  cmq('topic', 'envelope', 'requeue'),
  pulsarHttp('envelope', 'ack-timeout'),
  pulsarHttp('raw', 'ack-timeout'),
  pulsarHttp('envelope', 'retry-topic'),
  pulsarHttp('raw', 'retry-topic'),
  rocketmq,
];

const open: Setup[] = [];
afterAll(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
});

// Flavours are independent (own emulator, vhost or memory store), so they run concurrently.
describe.concurrent('poison messages', () => {
  for (const f of flavours) {
    it(`${f.flavour}, ${f.setup}: dead-lettered after exactly ${MAX_DELIVERIES} deliveries, with its metadata`, {
      timeout: 60_000,
    }, async () => {
      const s = await f.start();
      open.push(s);
      const { broker, caps } = s;
      const withHeaders = caps.headers !== 'none';
      const dest = await s.destination('poison');
      const dlq = await s.destination('poison-dlq');
      // The dead-letter destination's reader exists first, so a copy published there has a queue
      // or subscription to land in (RabbitMQ exchanges, CMQ topics and Pulsar subscriptions).
      const dlqConsumer = await broker.consumer(dlq, { group: 'dlq-reader' });
      const consumer = await broker.consumer(dest, {
        group: 'workers',
        maxDeliveries: MAX_DELIVERIES,
        deadLetter: dlq,
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
        ...(caps.visibilityTimeout && s.visibilityMs !== undefined
          ? { visibilityTimeoutMs: s.visibilityMs }
          : {}),
      });
      const producer = await broker.producer(dest);

      const poisonBody = { kind: 'poison', order: 42, items: ['tea', 'cups'] };
      const poisonHeaders = { 'x-case': 'poison', 'x-tenant': 'acme' };
      await producer.send([
        { body: poisonBody, ...(withHeaders ? { headers: poisonHeaders } : {}) },
        { body: 'flaky' },
        ...Array.from({ length: GOOD }, (_, i) => ({ body: `good-${i}` })),
      ]);

      const poisonAttempts: number[] = [];
      const handled = new Map<string, number>();
      const stop = new AbortController();
      let settled: () => void = () => {};
      const allGoodDone = new Promise<void>((resolve) => (settled = resolve));
      const run = consumer.run(
        (m) => {
          const text = m.text();
          handled.set(text, (handled.get(text) ?? 0) + 1);
          if (text.includes('poison')) {
            poisonAttempts.push(m.deliveryAttempt);
            throw new Error(REASON);
          }
          if (text === 'flaky' && handled.get(text) === 1) throw new Error('transient: try again');
          if ([...handled.keys()].filter((k) => !k.includes('poison')).length === GOOD + 1) settled();
        },
        { signal: stop.signal },
      );

      const dead: Message[] = [];
      const deadline = Date.now() + 40_000;
      while (dead.length === 0 && Date.now() < deadline) {
        for (const m of await dlqConsumer.receive({ max: 10, waitMs: 1_000 })) {
          dead.push(m);
          await m.ack();
        }
      }
      await Promise.race([allGoodDone, new Promise((r) => setTimeout(r, 10_000))]);
      // Quiet period: the poison message must not come back (a lost ack, a stray redelivery), and
      // nothing else may reach the dead-letter destination.
      const quietMs = Math.max(1_500, (s.visibilityMs ?? 0) * 2 + 500);
      const quietUntil = Date.now() + quietMs;
      while (Date.now() < quietUntil) {
        for (const m of await dlqConsumer.receive({
          max: 10,
          waitMs: Math.max(1, quietUntil - Date.now()),
        })) {
          dead.push(m);
          await m.ack();
        }
      }
      stop.abort();
      await run;
      const copies = dead.filter((m) => m.text().includes('poison'));
      const others = dead.length - copies.length;
      const copy = copies[0];
      let body = false;
      try {
        body = copy !== undefined && JSON.stringify(copy.json()) === JSON.stringify(poisonBody);
      } catch {
        body = false;
      }
      const h = copy?.headers ?? {};
      const headers = withHeaders ? h['x-case'] === 'poison' && h['x-tenant'] === 'acme' : null;
      const reason = withHeaders ? (h[DeadLetterHeaders.reason] ?? '').includes('poison-7f3a') : null;
      const source = withHeaders ? h[DeadLetterHeaders.source] === dest : null;
      const attempts = withHeaders ? h[DeadLetterHeaders.attempts] === String(MAX_DELIVERIES) : null;
      // Which path moved it: the portable layer's copy carries x-switchyard-dead-letter-* headers
      // (the memory broker's native move adds the same ones); RabbitMQ's own dead-lettering
      // (quorum x-delivery-limit) would add only x-death.
      const byPortableCopy = DeadLetterHeaders.reason in h;
      const how =
        caps.deadLetter === 'emulated'
          ? 'emulated'
          : f.flavour.startsWith('rabbitmq')
            ? `native (${byPortableCopy ? 'last delivery failed in the handler: portable copy; x-delivery-limit is the backstop' : 'moved by the broker'})`
            : f.flavour.startsWith('cmq')
              ? `native (${byPortableCopy ? 'last delivery failed in the handler: portable copy; the queue policy is the backstop' : 'moved by the queue policy'})`
              : 'native';
      const notes: string[] = [];
      if (!withHeaders)
        notes.push(
          'no headers on this flavour: the body moves, reason/source/attempts stay in the consumer log',
        );
      const flakyOk = handled.get('flaky') === 2;
      const goodOk = Array.from({ length: GOOD }, (_, i) => handled.get(`good-${i}`) === 1).every(Boolean);
      if (!flakyOk) notes.push(`flaky message handled ${handled.get('flaky') ?? 0}×`);
      if (!goodOk) notes.push('a good message was not handled exactly once');
      if (poisonAttempts.join(',') !== Array.from({ length: MAX_DELIVERIES }, (_, i) => i + 1).join(','))
        notes.push(`deliveryAttempt seen: ${poisonAttempts.join(',')}`);
      await recordPoison({
        flavour: f.flavour,
        setup: f.setup,
        how,
        maxDeliveries: MAX_DELIVERIES,
        deliveries: poisonAttempts.length,
        deadLettered: copies.length,
        body,
        headers,
        reason,
        source,
        attempts,
        others,
        notes: notes.join('; ') || '—',
      });

      expect(poisonAttempts).toEqual([1, 2, 3]);
      expect(copies).toHaveLength(1);
      expect(others).toBe(0);
      expect(body).toBe(true);
      if (withHeaders) {
        expect(h['x-case']).toBe('poison');
        expect(h['x-tenant']).toBe('acme');
        expect(h[DeadLetterHeaders.reason]).toContain('poison-7f3a');
        expect(h[DeadLetterHeaders.source]).toBe(dest);
        expect(h[DeadLetterHeaders.attempts]).toBe(String(MAX_DELIVERIES));
        expect(h[DeadLetterHeaders.group]).toBe('workers');
      }
      expect(handled.get('flaky')).toBe(2);
      expect(goodOk).toBe(true);
      await s.close();
      open.splice(open.indexOf(s), 1);
    });
  }
});
