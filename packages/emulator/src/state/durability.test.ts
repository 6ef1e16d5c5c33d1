// The emulator CLI with --state, killed mid-stream (SIGKILL, and separately the documented SIGTERM
// stop), restarted on the same file: every send the emulator confirmed must still be there, on
// every protocol — CMQ queue, CMQ topic (into a queue subscription), Pulsar over the Cloud API,
// RocketMQ gRPC. Duplicates are allowed (a send in flight at the kill may have been stored without
// its reply); they are counted, not failed. Compaction is pushed out to 10 minutes so only the
// journal can save the messages of a kill -9.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmqTestClient } from '../../test-kit/cmq.js';
import { rawClient } from '../../test-kit/rocketmq.js';
import { makeClient } from '../../test-kit/tcapi.js';
import { DEFAULT_CLUSTER_ID } from '../pulsar/engine.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard-emulator.mjs', import.meta.url));
const CREDENTIAL = { secretId: 'AKIDdurable', secretKey: 'durable-secret' };
const ARGS = ['--secret-id', CREDENTIAL.secretId, '--secret-key', CREDENTIAL.secretKey];
/** Confirmed sends per protocol before the kill; the senders keep going while it lands. */
const BEFORE_KILL = 40;
const LANES = 4;

interface Ready {
  cmq: string;
  api: string;
  rocketmq: string;
  adminToken: string;
}

interface Running {
  readonly child: ChildProcess;
  readonly ready: Ready;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, ready: JSON.parse(line) as Ready, exited });
    });
    void exited.then((e) => reject(new Error(`exited ${e.code ?? e.signal}: ${stderr}`)));
  });
}

function rocketMetadata(): Record<string, string> {
  const date = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const signature = createHmac('sha1', CREDENTIAL.secretKey).update(date).digest('hex').toUpperCase();
  return {
    authorization: `MQv2-HMAC-SHA1 Credential=${CREDENTIAL.secretId}, SignedHeaders=x-mq-date-time, Signature=${signature}`,
    'x-mq-date-time': date,
  };
}

type Send = (body: string) => Promise<void>;

/** The four senders against one running emulator; each throws unless the send was confirmed. */
function senders(ready: Ready) {
  const cmq = new CmqTestClient(ready.cmq);
  const api = makeClient(new URL(ready.api).host, CREDENTIAL, { reqTimeout: 5 });
  const rocket = rawClient(ready.rocketmq, rocketMetadata());
  const send: Record<string, Send> = {
    cmqQueue: async (body) => {
      await cmq.ok('SendMessage', { queueName: 'q', msgBody: body }, { credential: CREDENTIAL });
    },
    cmqTopic: async (body) => {
      await cmq.ok('PublishMessage', { topicName: 't', msgBody: body }, { credential: CREDENTIAL });
    },
    pulsar: async (body) => {
      await api.SendMessages({ Topic: `${DEFAULT_CLUSTER_ID}/default/p`, Payload: body });
    },
    rocketmq: async (body) => {
      const reply = await rocket.unary('SendMessage', {
        messages: [
          {
            topic: { name: 'R' },
            body: Buffer.from(body),
            system_properties: { message_id: randomUUID().replace(/-/g, ''), message_type: 'NORMAL' },
          },
        ],
      });
      const code = (reply.status as { code?: string } | undefined)?.code;
      if (code !== 'OK') throw new Error(`RocketMQ SendMessage answered ${code}`);
    },
  };
  return { send, close: () => rocket.close() };
}

async function setUp(ready: Ready): Promise<void> {
  const cmq = new CmqTestClient(ready.cmq);
  const credential = CREDENTIAL;
  await cmq.ok('CreateQueue', { queueName: 'q' }, { credential });
  await cmq.ok('CreateQueue', { queueName: 'tq' }, { credential });
  await cmq.ok('CreateTopic', { topicName: 't' }, { credential });
  await cmq.ok(
    'Subscribe',
    {
      topicName: 't',
      subscriptionName: 's',
      protocol: 'queue',
      endpoint: 'tq',
      notifyContentFormat: 'SIMPLIFIED',
    },
    { credential },
  );
  const api = makeClient(new URL(ready.api).host, CREDENTIAL);
  await api.CreateTopic({
    ClusterId: DEFAULT_CLUSTER_ID,
    EnvironmentId: 'default',
    TopicName: 'p',
    Partitions: 2,
  });
  await api.CreateSubscription({
    ClusterId: DEFAULT_CLUSTER_ID,
    EnvironmentId: 'default',
    TopicName: 'p',
    SubscriptionName: 'sub',
    IsIdempotent: false,
  });
}

/** Everything each destination holds after the restart, as bodies. */
async function readBack(ready: Ready): Promise<Record<string, string[]>> {
  const cmq = new CmqTestClient(ready.cmq);
  const drain = async (queueName: string) => {
    const bodies: string[] = [];
    for (;;) {
      const r = (await cmq.call(
        'BatchReceiveMessage',
        { queueName, numOfMsg: 16, pollingWaitSeconds: 0 },
        { credential: CREDENTIAL },
      )) as { code: number; msgInfoList?: { msgBody: string }[] };
      if (r.code === 7000) return bodies;
      expect(r.code).toBe(0);
      bodies.push(...(r.msgInfoList ?? []).map((m) => m.msgBody));
    }
  };
  const api = makeClient(new URL(ready.api).host, CREDENTIAL);
  const pulsar: string[] = [];
  for (;;) {
    const r = await api
      .ReceiveMessage({
        Topic: `${DEFAULT_CLUSTER_ID}/default/p`,
        SubscriptionName: 'sub',
        MaxNumMessages: 100,
        Timeout: 50,
      })
      .catch((error: { code?: string }) => {
        if (error.code === 'FailedOperation.ReceiveTimeout') return undefined;
        throw error;
      });
    if (r === undefined) break;
    pulsar.push(...(r.MessagesPayload ?? '').split('###'));
  }
  const res = await fetch(`${ready.api}/_emulator/rocketmq/topics/R/messages`, {
    headers: { authorization: `Bearer ${ready.adminToken}` },
  });
  expect(res.status).toBe(200);
  const rocketmq = ((await res.json()) as { body: string }[]).map((m) =>
    Buffer.from(m.body, 'base64').toString('utf8'),
  );
  return { cmqQueue: await drain('q'), cmqTopic: await drain('tq'), pulsar, rocketmq };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-durable-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(['SIGKILL', 'SIGTERM'] as const)('--state under %s mid-stream', (signal) => {
  it('keeps every confirmed send on every protocol', async () => {
    const state = join(dir, `${signal}.json`);
    const first = await launch(['--state', state, '--state-interval', '600000']);
    await setUp(first.ready);
    const { send, close } = senders(first.ready);
    const confirmed: Record<string, string[]> = { cmqQueue: [], cmqTopic: [], pulsar: [], rocketmq: [] };
    let killed = false;
    let kill!: () => void;
    const killedNow = new Promise<void>((resolve) => {
      kill = resolve;
    });
    const lane = async (protocol: string, laneNo: number) => {
      for (let i = 0; !killed; i++) {
        const body = `${protocol}-${laneNo}-${i}`;
        try {
          await send[protocol]!(body);
        } catch (error) {
          if (killed) return;
          throw error;
        }
        confirmed[protocol]!.push(body);
        if (Object.values(confirmed).every((list) => list.length >= BEFORE_KILL)) kill();
      }
    };
    const lanes = Object.keys(send).flatMap((protocol) =>
      Array.from({ length: LANES }, (_, n) => lane(protocol, n)),
    );
    // Kill while every lane still has a send in flight.
    await Promise.race([killedNow, Promise.all(lanes)]);
    killed = true;
    first.child.kill(signal);
    const exit = await first.exited;
    await Promise.all(lanes);
    close();
    if (signal === 'SIGTERM') expect(exit.code).toBe(0);
    else expect(exit.signal).toBe('SIGKILL');

    const second = await launch(['--state', state]);
    try {
      const stored = await readBack(second.ready);
      const report: Record<string, { confirmed: number; lost: number; duplicates: number }> = {};
      for (const [protocol, bodies] of Object.entries(confirmed)) {
        const held = stored[protocol]!;
        const have = new Set(held);
        report[protocol] = {
          confirmed: bodies.length,
          lost: bodies.filter((b) => !have.has(b)).length,
          duplicates: held.length - have.size,
        };
      }
      console.info(`--state after ${signal}: ${JSON.stringify(report)}`);
      for (const [protocol, r] of Object.entries(report)) {
        expect(r.confirmed, protocol).toBeGreaterThanOrEqual(BEFORE_KILL);
        expect(r.lost, protocol).toBe(0);
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 120_000);
});
