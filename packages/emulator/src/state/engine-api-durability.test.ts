// Destinations created by calling the engines directly (not over the wire) must be saved as soon
// as they are made: a message sent over the wire to one of them, then a kill -9, then a restart on
// the same file, and the message is there. Before the engines flagged these changes themselves
// they were saved only at the next compaction, and the journaled message was dropped on replay
// (its queue or topic was not in the snapshot).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CmqTestClient } from '../../test-kit/cmq.js';
import { makeClient } from '../../test-kit/tcapi.js';
import { within } from '../../test-kit/within.js';
import { DEFAULT_CLUSTER_ID } from '../pulsar/engine.js';
import { DEFAULT_CREDENTIALS } from '../start.js';

const CHILD = fileURLToPath(new URL('../../test-kit/engine-api-child.ts', import.meta.url));
const credential = DEFAULT_CREDENTIALS[0]!;

interface Child {
  readonly process: ChildProcess;
  readonly endpoints: { cmq: string; api: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function launch(statePath: string, mode?: 'cmq' | 'pulsar'): Promise<Child> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=switchyard-source', CHILD, statePath, ...(mode ? [mode] : [])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then((e) => reject(new Error(`child exited ${e.code ?? e.signal}: ${stderr}`)));
  });
  const endpoints = JSON.parse(
    await within(line, 30_000, 'the child emulator ready line'),
  ) as Child['endpoints'];
  return { process: child, endpoints, exited };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-engine-api-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('a CMQ queue, topic and subscription made through the engine survive kill -9 with their messages', async () => {
  const statePath = join(dir, 'cmq.json');
  const first = await launch(statePath, 'cmq');
  const cmq = new CmqTestClient(first.endpoints.cmq);
  await cmq.ok('SendMessage', { queueName: 'direct-q', msgBody: 'to the queue' }, { credential });
  await cmq.ok('PublishMessage', { topicName: 'direct-t', msgBody: 'to the topic' }, { credential });
  await kill(first);

  const second = await launch(statePath);
  try {
    const again = new CmqTestClient(second.endpoints.cmq);
    const receive = (queueName: string) =>
      again.call('ReceiveMessage', { queueName, pollingWaitSeconds: 0 }, { credential });
    expect(await receive('direct-q')).toMatchObject({ code: 0, msgBody: 'to the queue' });
    expect(await receive('direct-tq')).toMatchObject({ code: 0, msgBody: 'to the topic' });
  } finally {
    await stop(second);
  }
}, 120_000);

it('a Pulsar namespace and topic made through the engine survive kill -9 with their message', async () => {
  const statePath = join(dir, 'pulsar.json');
  const first = await launch(statePath, 'pulsar');
  const topic = `${DEFAULT_CLUSTER_ID}/direct-ns/direct-p`;
  await makeClient(new URL(first.endpoints.api).host, credential).SendMessages({
    Topic: topic,
    Payload: 'to pulsar',
  });
  await kill(first);

  const second = await launch(statePath);
  try {
    const reader = makeClient(new URL(second.endpoints.api).host, credential);
    const got = await reader.ReceiveMessage({
      Topic: topic,
      SubscriptionName: 'reader',
      MaxNumMessages: 10,
      Timeout: 1000,
    });
    expect(got.MessagesPayload).toBe('to pulsar');
  } finally {
    await stop(second);
  }
}, 120_000);

async function kill(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  expect((await child.exited).signal).toBe('SIGKILL');
}

async function stop(child: Child): Promise<void> {
  child.process.kill('SIGTERM');
  await child.exited;
}
