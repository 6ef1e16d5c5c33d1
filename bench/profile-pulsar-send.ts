// Pulsar over HTTP sends, for a CPU profile of one side alone (the bench's rows pair them; this
// isolates one for --cpu-prof) or an in-process A/B of two. The emulator runs in a child process,
// so the figures hold the client only. Every mode first warms up with AB_WARMUP calls (2,000).
// Sides: `sdk` (the product client's SendMessages), `switchyard` (producer.send()), `switchyard-32`
// (send() from as many callers as the SDK keeps in flight), `switchyard-fresh` (a new producer per
// run, as the bench's rounds open one), and for decomposing the SDK call:
// `sdk-signal`, `common`, `common-signal`, `common-batch` (the driver's CommonClient).
// `layers` / `layers-32` stub the SDK's request() under Switchyard, so what remains is what
// Switchyard's own layers cost per send, with no I/O for the machine's load to blur; STUB_DELAY_MS
// and STUB_GARBAGE_KB make the stub answer late and allocate as a request does.
// `pipelined` as the pipelined bench row sends: the SDK with 32 calls in flight, Switchyard with
// 1,000 concurrent send() calls (maxInFlight 16, PRODUCER_OPTIONS adds options; the driver's
// maxConcurrency 32).
// `ab` alternates two sides (AB=sdk,switchyard) in one process, round by round (AB_ROUNDS, 10), and
// prints each round's paired CPU and rate ratios and their medians; AB_PROFILE=dir writes a CPU
// profile per side and round.
// `series:<side>` (no warm-up) prints CPU per call in chunks of SERIES_CHUNK (500) from the first
// call on, split into the main thread and the process's other threads (V8's compiler and GC
// workers, from /proc/self/task/*/schedstat), e.g. `series:sdk 4000`: how the JIT warms up.
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-pulsar-send.ts <side>|layers|layers-32|ab|series:<side> [count] [bytes] [pipelined]

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { connect } from '@switchyard/core';
import { CredentialProvider } from '@switchyard/core/driver';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { Api } from '../packages/pulsar-http/src/client.js';
import { fromUrl } from '../packages/pulsar-http/src/config.js';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, type Phase, textBody } from './measure.js';

const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

const side = process.argv[2] ?? 'switchyard';
const count = Number(process.argv[3] ?? 2_000);
const emulator = await startEmulatorProcess();
const { secretId, secretKey } = emulator.credentials[0]!;
const host = new URL(emulator.endpoints.api).host;
const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
const sdk = new TdmqClient({
  credential: { secretId, secretKey },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: host, protocol: 'http://', reqMethod: 'POST', agent, reqTimeout: 30 } },
});
const name = `profile-${process.pid}`;
await sdk.CreateTopic({
  ClusterId: 'pulsar-emulator',
  EnvironmentId: 'default',
  TopicName: name,
  Partitions: 2,
});
const path = `pulsar-emulator/default/${name}`;
const body = textBody(Number(process.argv[4] ?? 256));
const target = `pulsar-http+http://${secretId}:${secretKey}@${host}?region=ap-guangzhou&cluster=pulsar-emulator`;
const broker = await connect(target);
// The driver's client on its own (its Limiter, credential lookup and error mapping), without core.
const apiConfig = fromUrl(new URL(target));
const api = new Api(
  apiConfig,
  new CredentialProvider(apiConfig.credentials as never, {
    driver: 'pulsar-http',
    what: 'bench',
    status: () => {},
    logger: { debug() {}, info() {}, warn() {}, error() {} } as never,
  }),
);
const pipelined = process.argv[5] === 'pipelined';
const producer = await broker.producer(name, {
  maxInFlight: 16,
  ...JSON.parse(process.env.PRODUCER_OPTIONS ?? '{}'),
});
// STUB_DELAY_MS: the stub answers after that long, so sends wait in the queues as they do on the wire.
// STUB_GARBAGE_KB: the stub allocates that much short-lived garbage per request (the SDK's request
// allocates ≈ 50 KB: node-fetch, headers, signing), so young-generation collections come as often.
const stubDelay = Number(process.env.STUB_DELAY_MS ?? 0);
const stubGarbage = Number(process.env.STUB_GARBAGE_KB ?? 0);
let sink: unknown;
if (side === 'layers' || side === 'layers-32')
  producer.unwrap<{ request: () => Promise<unknown> }>().request = () => {
    if (stubGarbage > 0) sink = Array.from({ length: stubGarbage * 16 }, (_, i) => ({ i, s: 'x' }));
    return stubDelay > 0
      ? new Promise((resolve) => setTimeout(() => resolve({ MessageId: 'stub' }), stubDelay))
      : Promise.resolve({ MessageId: 'stub', sink });
  };
const common = producer.unwrap<{
  request: (action: string, req: object, options: { signal?: AbortSignal }) => Promise<unknown>;
}>();
const shared = new AbortController().signal;
const sends = {
  sdk: () => sdk.SendMessages({ Topic: path, Payload: body }),
  switchyard: () => producer.send(body),
  // Decomposition: the product client with a signal, the driver's CommonClient with and without one.
  'sdk-signal': () => sdk.request('SendMessages', { Topic: path, Payload: body }, { signal: shared }),
  common: () => common.request('SendMessages', { Topic: path, Payload: body }, {}),
  'common-batch': () =>
    common.request('SendBatchMessages', { Topic: path, Payload: body }, { signal: shared }),
  api: () => api.call('SendMessages', { Topic: path, Payload: body }, shared),
  'common-signal': () => common.request('SendMessages', { Topic: path, Payload: body }, { signal: shared }),
};
type Side = keyof typeof sends | 'switchyard-32' | 'switchyard-fresh';
// switchyard-32: send() from 32 callers, as many as the SDK side keeps in flight.
// switchyard-fresh: a producer opened for each run and closed after it, as bench/pulsar-http.ts's
// rounds do (there outside the measure; here inside it: one open and close per `count` sends).
const run = async (which: Side, n: number) => {
  if (which === 'switchyard-32') return concurrently(n, pipelined ? 32 : 1, sends.switchyard);
  if (which === 'switchyard-fresh') {
    const fresh = await broker.producer(name, { maxInFlight: 16 });
    await concurrently(n, pipelined ? 1_000 : 1, () => fresh.send(body));
    return fresh.close();
  }
  return concurrently(n, pipelined ? (which === 'switchyard' ? 1_000 : 32) : 1, sends[which]);
};
/** As measure.ts's measure(), with the kernel's share of the CPU kept apart. */
async function measure(count: number, work: () => Promise<unknown>): Promise<Phase & { sysUs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { count, ms, cpuUs: used.user + used.system, sysUs: used.system };
}
const report = (label: string, phase: Phase & { sysUs: number }) =>
  `${label}: ${Math.round((phase.count / phase.ms) * 1000)} msg/s, ${(phase.cpuUs / phase.count).toFixed(1)} µs CPU/msg (${(phase.sysUs / phase.count).toFixed(1)} in the kernel)`;
// AB_PROFILE=dir: one CPU profile per side and round (dir/<side>-<n>.cpuprofile), so the two sides'
// phases can be compared from the same process, interleaved in time.
const profileDir = process.env.AB_PROFILE;
const session = profileDir === undefined ? undefined : new Session();
session?.connect();
await session?.post('Profiler.enable');
let profiles = 0;
async function profiled<T>(which: Side, work: () => Promise<T>): Promise<T> {
  if (session === undefined) return work();
  await session.post('Profiler.start');
  const result = await work();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(`${profileDir}/${which}-${profiles++}.cpuprofile`, JSON.stringify(profile));
  return result;
}
if (side === 'ab') {
  // AB=a,b picks the two sides (default sdk,switchyard); the second is reported against the first.
  const [a, b] = (process.env.AB ?? 'sdk,switchyard').split(',') as [Side, Side];
  // The SDK's code runs in two copies (the driver's tencentcloud-sdk-nodejs-common and the bench's
  // tencentcloud-sdk-nodejs), each JIT-compiled on its own: CPU per call falls ≈ 3× over the
  // first ≈ 2,000 calls, so both sides warm up alike before anything is compared.
  const warmUp = Number(process.env.AB_WARMUP ?? 2_000);
  await run(a, warmUp);
  await run(b, warmUp);
  const rounds = Number(process.env.AB_ROUNDS ?? 10);
  const cpu: number[] = [];
  const rate: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = await profiled(round % 2 === 0 ? a : b, () =>
      measure(count, () => run(round % 2 === 0 ? a : b, count)),
    );
    const second = await profiled(round % 2 === 0 ? b : a, () =>
      measure(count, () => run(round % 2 === 0 ? b : a, count)),
    );
    const [x, y] = round % 2 === 0 ? [first, second] : [second, first];
    cpu.push(y.cpuUs / x.cpuUs);
    rate.push(x.ms / y.ms);
    console.log(`${report(a, x)} | ${report(b, y)} | cpu ${(y.cpuUs / x.cpuUs).toFixed(2)}×`);
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!.toFixed(2);
  console.log(`${b} / ${a}, median paired: rate ${median(rate)}×, CPU ${median(cpu)}×`);
} else if (side.startsWith('series:')) {
  // CPU time per thread so far, ns (the first field of schedstat): the main thread's id is the pid.
  const threads = () => {
    let main = 0;
    let other = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (tid === String(process.pid)) main += ns;
      else other += ns;
    }
    return { main, other };
  };
  const which = side.slice('series:'.length) as Side;
  const chunk = Number(process.env.SERIES_CHUNK ?? 500);
  const chunks: string[] = [];
  for (let done = 0; done < count; done += chunk) {
    const before = threads();
    const cpu = process.cpuUsage();
    await run(which, chunk);
    const used = process.cpuUsage(cpu);
    const after = threads();
    const per = (ns: number) => (ns / 1000 / chunk).toFixed(0);
    chunks.push(
      `${((used.user + used.system) / chunk).toFixed(0)} (${per(after.main - before.main)} + ${per(after.other - before.other)})`,
    );
  }
  console.log(
    `${which}, µs CPU per call by ${chunk}-call chunk (main thread + other threads): ${chunks.join(', ')}`,
  );
} else {
  const which = (side === 'layers' ? 'switchyard' : side === 'layers-32' ? 'switchyard-32' : side) as Side;
  await run(which, Number(process.env.AB_WARMUP ?? 2_000)); // warm-up, as for ab
  console.log(report(side!, await measure(count, () => run(which, count))));
}
session?.disconnect();
api.close();
await broker.close();
agent.destroy();
await emulator.stop();
