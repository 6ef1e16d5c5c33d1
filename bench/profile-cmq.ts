// CMQ, one side alone at one body size, for a CPU profile of the client (the bench pairs the
// sides; this isolates one for --cpu-prof). The emulator runs in a child process, so the profile
// holds the client only. `layers` stubs the HTTP request under Switchyard (it answers at once), so
// what remains is what Switchyard's own layers cost per message.
// `client` sends the expert's batches through the driver's own HTTP client (signing, pool, replies).
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-cmq.ts expert|switchyard|layers|client [bytes] [count] [rounds] [receive|send]
// PHASE_PROFILE=<dir>: instead of --cpu-prof, one .cpuprofile per measured phase after the first
// round (no start-up, no warm-up, no unmeasured fill), sampled every 100 µs, written to <dir>
// (a profile's first sample and the inspector's own `dispatch` frames are the profiler's, not the
// phase's).

import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { connect } from '@switchyard/core';
import { expertCmq } from './cmq-raw.js';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, cpuOf, drainWithRun, rateOf, textBody, measure as timed } from './measure.js';

const sides = ['expert', 'layers', 'client'] as const;
const side = sides.find((s) => s === process.argv[2]) ?? 'switchyard';
const bytes = Number(process.argv[3] ?? 256);
const count = Number(process.argv[4] ?? 4_000);
const rounds = Number(process.argv[5] ?? 3);
/** `receive`: the queue is filled by the raw client, unmeasured, and only the receive is timed. */
const receiveOnly = process.argv[6] === 'receive';
/** `send`: only the send is run (the queue is left full), for a profile of sending alone. */
const sendOnly = process.argv[6] === 'send';
const emulator = await startEmulatorProcess({ cmq: { recreateGuardSeconds: 0 } });
const { secretId, secretKey } = emulator.credentials[0]!;
const endpoint = emulator.endpoints.cmq;
const host = new URL(endpoint).host;
const broker = await connect(
  `cmq+http://${secretId}:${encodeURIComponent(secretKey)}@${host}?region=ap-guangzhou&maxConnections=16&maxMessageBytes=1048576`,
);
const expert = expertCmq(endpoint, secretId, secretKey, 16);
const body = textBody(bytes);
const bodies = Array.from({ length: count }, () => body);
const phaseDir = process.env.PHASE_PROFILE;
const session = phaseDir === undefined ? undefined : new Session();
if (session !== undefined && phaseDir !== undefined) {
  mkdirSync(phaseDir, { recursive: true });
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
}
let round = 0;
let phases = 0;
/** `work` profiled on its own when PHASE_PROFILE is set and the warm-up round is over. */
const profiled = async <T>(work: () => Promise<T>): Promise<T> => {
  if (session === undefined || round === 0) return work();
  await session.post('Profiler.start');
  const result = await work();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(`${phaseDir}/${side}-${++phases}.cpuprofile`, JSON.stringify(profile));
  return result;
};
const measure: typeof timed = (n, work) => profiled(() => timed(n, work));
let queues = 0;
const queue = async () => {
  const queueName = `profile-${++queues}`;
  await expert.call('CreateQueue', [
    ['queueName', queueName],
    ['maxMsgHeapNum', '100000000'],
    ['maxMsgSize', '1048576'],
  ]);
  return queueName;
};
// Requests per phase: Switchyard's client counts its own; the expert's calls are counted here.
const requests = () =>
  side === 'expert' ? expert.requests : broker.unwrap<{ http: { requests: number } }>().http.requests;
let before = 0;
const report = (what: string, p: Awaited<ReturnType<typeof measure>>) => {
  const sent = requests() - before;
  before = requests();
  console.log(
    `${side} ${what} ${bytes} B: ${Math.round(rateOf(p))} msg/s, ${cpuOf(p).toFixed(1)} µs CPU/msg, ${(count / sent).toFixed(1)} msg/request`,
  );
};
for (; round < rounds; round++) {
  const q = await queue();
  before = requests();
  if (receiveOnly) {
    await expert.send(q, bodies);
    before = requests();
  }
  if (side === 'expert') {
    if (!receiveOnly) report('send', await measure(count, () => expert.send(q, bodies)));
    if (!sendOnly) report('receive+delete', await measure(count, () => expert.receiveDelete(q, count, 4)));
    continue;
  }
  if (side === 'client') {
    // The driver's HTTP client alone, batches of 16 with 16 in flight, as the expert sends them.
    const http = broker.unwrap<{ http: { call: (a: string, p: object) => Promise<unknown> } }>().http;
    const batch = bodies.slice(0, 16);
    report(
      'send',
      await measure(count, () =>
        concurrently(count / 16, 16, () =>
          http.call('BatchSendMessage', { queueName: q, msgBody: batch, delaySeconds: 0 }),
        ),
      ),
    );
    continue;
  }
  const producer = await broker.producer(q, { maxInFlight: 16 });
  if (side === 'layers') {
    const client = producer.unwrap<{ call: (action: string) => Promise<unknown> }>();
    client.call = async () => ({ code: 0, msgList: [] });
  }
  if (!receiveOnly)
    report('send', await measure(count, () => concurrently(count, 1_000, () => producer.send(body))));
  await producer.close();
  if (side === 'switchyard' && !sendOnly)
    report(
      'receive+delete',
      await profiled(async () =>
        drainWithRun(
          await broker.consumer(q, { prefetch: Number(process.env.PREFETCH ?? 512), concurrency: 64 }),
          count,
        ),
      ),
    );
}
session?.disconnect();
await broker.close();
await expert.close();
await emulator.stop();
