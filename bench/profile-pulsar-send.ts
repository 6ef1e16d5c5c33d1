// Pulsar over HTTP sends, for a CPU profile of one side alone (the bench's rows pair them; this
// isolates one for --cpu-prof) or an in-process A/B of two. The emulator runs in a child process,
// so the figures hold the client only. Every mode first warms up with AB_WARMUP calls (2,000).
// Sides: `sdk` (the product client's SendMessages), `switchyard` (producer.send()), `switchyard-32`
// (send() from as many callers as the SDK keeps in flight), `switchyard-fresh` (a new producer per
// run, as the bench's rounds open one), `sdk-queued` (the bench's expert pipelined send: every call
// queued at once behind a bound of 32), and for decomposing the SDK call:
// `sdk-signal`, `common`, `common-signal`, `common-batch` (the driver's CommonClient), `lean` (the
// same signed request over node:http alone: a floor, see below), `http-connection` (the SDK one
// level down). LEAN=1 sends the driver's requests through the lean path (see below).
// Controls for "does the shared code cost more because of Switchyard?": `sdk+layers` (a stubbed
// Switchyard send before each direct SDK call), `sdk+pad` (PAD_US of busy work and PAD_KB of
// garbage before each), `sdk-again` (the SDK under a second name, for an A/A run's spread).
// `turns:<side>[,<side>…]` counts promises, nextTicks and setTimeouts per call.
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
// COUNT=1 (with `ab`) prints, per round, each agent's requests by action, most in flight (and the
// mean while any was) and connections opened.
// `alloc:<side>` (or `alloc:a,b`, alternating) prints bytes allocated per call, rounds with a GC
// dropped, and the ArrayBuffer bytes (Buffers outside the V8 heap) made per call:
// node --expose-gc --min-semi-space-size=128 --max-semi-space-size=128 …
// One side alone (`<side> <count> <bytes> pipelined`): SURVIVORS=dir writes a sampling heap profile
// of what outlived a scavenge (where promoted bytes were allocated), SNAPSHOT_MS=t (SNAPSHOT_DIR)
// a heap snapshot t ms into the run; with node --trace-gc-nvp the process's promoted bytes and
// collections per side, e.g. `sdk-queued` vs `switchyard` at 65536 (docs/bench-profiles.md §22.4).
// `sdk-own-signal`: the product client with a new AbortController's signal per request.
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-pulsar-send.ts <side>|layers|layers-32|ab|series:<side>|alloc:<side> [count] [bytes] [pipelined]

import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { connect, registerDriver } from '@switchyard/core';
import { CredentialProvider, type DriverModule } from '@switchyard/core/driver';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { Api } from '../packages/pulsar-http/src/client.js';
import { fromUrl } from '../packages/pulsar-http/src/config.js';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, type Phase, textBody } from './measure.js';
import { bounded } from './pulsar-http.js';

const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

// PULSAR_HTTP_DRIVER=<another tree's packages/pulsar-http/src/index.ts or dist/index.js>: that
// driver instead, for before/after runs (the same core and SDK modules serve both).
if (process.env.PULSAR_HTTP_DRIVER)
  registerDriver(
    ((await import(pathToFileURL(process.env.PULSAR_HTTP_DRIVER).href)) as { driver: DriverModule }).driver,
  );
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
const bodyText = body;
const { hostname, port } = new URL(`http://${host}`);
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
// STUB=1 stubs it in any mode (e.g. `alloc:switchyard`: what Switchyard's layers allocate per send).
// STUB_DELAY_MS: the stub answers after that long, so sends wait in the queues as they do on the wire.
// STUB_GARBAGE_KB: the stub allocates that much short-lived garbage per request (the SDK's request
// allocates ≈ 50 KB: node-fetch, headers, signing), so young-generation collections come as often.
const stubDelay = Number(process.env.STUB_DELAY_MS ?? 0);
const stubGarbage = Number(process.env.STUB_GARBAGE_KB ?? 0);
let sink: unknown;
if (side === 'layers' || side === 'layers-32' || process.env.STUB === '1')
  producer.unwrap<{ request: () => Promise<unknown> }>().request = () => {
    if (stubGarbage > 0) sink = Array.from({ length: stubGarbage * 16 }, (_, i) => ({ i, s: 'x' }));
    return stubDelay > 0
      ? new Promise((resolve) => setTimeout(() => resolve({ MessageId: 'stub' }), stubDelay))
      : Promise.resolve({ MessageId: 'stub', sink });
  };
// COUNT=1: per phase, each agent's requests by action, most in flight at once and connections
// opened (both sides' agents: is the baseline sending with the same concurrency and batching?).
interface AgentCount {
  requests: Map<string, number>;
  inFlight: number;
  most: number;
  connections: number;
  /** In flight × ms, summed while any request is (the mean in flight over busy time: area / busy). */
  area: number;
  busy: number;
  since: number;
}
const counted = new Map<string, AgentCount>();
function countAgent(label: string, counting: http.Agent): void {
  const count: AgentCount = {
    requests: new Map(),
    inFlight: 0,
    most: 0,
    connections: 0,
    area: 0,
    busy: 0,
    since: 0,
  };
  const step = (delta: number) => {
    const now = performance.now();
    if (count.inFlight > 0) {
      count.area += count.inFlight * (now - count.since);
      count.busy += now - count.since;
    }
    count.since = now;
    count.inFlight += delta;
  };
  counted.set(label, count);
  // addRequest is node:http's internal entry for every request an agent serves.
  const agent = counting as unknown as {
    addRequest(req: http.ClientRequest, options: unknown): void;
    createConnection(...args: unknown[]): unknown;
  };
  const addRequest = agent.addRequest;
  agent.addRequest = function (req, options) {
    const action = String(req.getHeader('X-TC-Action'));
    count.requests.set(action, (count.requests.get(action) ?? 0) + 1);
    step(1);
    count.most = Math.max(count.most, count.inFlight);
    req.once('close', () => step(-1));
    return addRequest.call(this, req, options);
  };
  const createConnection = agent.createConnection;
  agent.createConnection = function (...args) {
    count.connections++;
    return createConnection.apply(this, args);
  };
}
const countsSince = () => {
  const text = [...counted]
    .map(([label, c]) => {
      const actions = [...c.requests].map(([a, n]) => `${a} ${n}`).join(', ') || 'none';
      const mean = c.busy > 0 ? (c.area / c.busy).toFixed(1) : '0';
      return `${label}: ${actions}; at most ${c.most} in flight (${mean} on average while any was); ${c.connections} connections opened`;
    })
    .join(' | ');
  for (const c of counted.values()) {
    c.requests.clear();
    c.most = c.inFlight;
    c.connections = 0;
    c.area = 0;
    c.busy = 0;
  }
  return text;
};
if (process.env.COUNT === '1') {
  countAgent('bench agent (SDK sides)', agent);
  countAgent(
    "driver's agent",
    producer.unwrap<{ profile: { httpProfile: { agent: http.Agent } } }>().profile.httpProfile.agent,
  );
}
const common = producer.unwrap<{
  request: (action: string, req: object, options: { signal?: AbortSignal }) => Promise<unknown>;
}>();
const shared = new AbortController().signal;
// `lean`: the same SendMessages request (TC3-HMAC-SHA256 signed as the SDK's sign3 does, JSON body,
// the same headers, the bench's keep-alive agent) over node:http alone, without the SDK's
// HttpConnection and node-fetch: a floor for what the request itself costs, not a client (no
// timeout, no error mapping, no retries).
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
function lean(): Promise<unknown> {
  return leanRequest('SendMessages', { Topic: path, Payload: bodyText });
}
function leanRequest(action: string, request: object): Promise<unknown> {
  const body = JSON.stringify(request);
  const timestamp = Math.floor(Date.now() / 1000);
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/tdmq/tc3_request`;
  const canonical = `POST\n/\n\ncontent-type:application/json\nhost:${hostname}\n\ncontent-type;host\n${createHash('sha256').update(body).digest('hex')}`;
  const toSign = `TC3-HMAC-SHA256\n${timestamp}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const key = hmac(hmac(hmac(`TC3${secretKey}`, date), 'tdmq'), 'tc3_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          Host: host,
          'X-TC-Action': action,
          'X-TC-Region': 'ap-guangzhou',
          'X-TC-Timestamp': String(timestamp),
          'X-TC-Version': '2020-02-17',
          'X-TC-RequestClient': 'SDK_NODEJS_lean',
          'X-TC-TraceId': randomUUID(),
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          Authorization: `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            Response: { Error?: { Message: string } };
          };
          if (reply.Response.Error) reject(new Error(reply.Response.Error.Message));
          else resolve(reply.Response);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
// LEAN=1: the driver's SDK client sends through leanRequest instead (any action, as the driver asks
// for it), so `switchyard` measures core and the driver over a driver-owned request path: what such a
// path would give end to end (the lean floor has no timeout, error mapping or token, see above).
if (process.env.LEAN === '1')
  common.request = (action: string, request: object) => leanRequest(action, request);
// `http-connection`: the SDK's lower-level entry, HttpConnection.doRequestWithSign3 (the same
// signing, JSON, node-fetch, agent and timeout), without AbstractClient's request/doRequest frames,
// its credential await, trace-id headers copy and parseResponse: is the SDK cheaper one level down?
const { HttpConnection } =
  require('tencentcloud-sdk-nodejs-common/tencentcloud/common/http/http_connection.js') as {
    HttpConnection: { doRequestWithSign3(options: object): Promise<{ json(): Promise<unknown> }> };
  };
const connectionUrl = `http://${host}/`;
async function viaConnection(): Promise<unknown> {
  const res = await HttpConnection.doRequestWithSign3({
    method: 'POST',
    url: connectionUrl,
    secretId,
    secretKey,
    region: 'ap-guangzhou',
    data: { Topic: path, Payload: body },
    service: 'tdmq',
    action: 'SendMessages',
    version: '2020-02-17',
    timeout: 30_000,
    requestClient: 'SDK_NODEJS_connection',
    headers: {},
    agent,
  });
  const reply = (await res.json()) as { Response: { Error?: { Message: string } } };
  if (reply.Response.Error) throw new Error(reply.Response.Error.Message);
  return reply.Response;
}
// `sdk+layers`: Switchyard's own layers (core and the driver, over a second broker whose SDK request()
// is stubbed) run before each direct SDK call, so the process runs the same code per send as the
// `switchyard` side, but the SDK call gets the bench's arguments and no signal: is the shared code
// (the SDK, node-fetch, node:http) costlier because of what Switchyard passes it, or because of what
// runs between two requests? `sdk+pad` instead runs PAD_US µs of unrelated work (allocating
// PAD_KB KiB) before each SDK call.
const layered = await connect(target);
const layers = await layered.producer(name, { maxInFlight: 16 });
layers.unwrap<{ request: () => Promise<unknown> }>().request = () => Promise.resolve({ MessageId: 'stub' });
const padUs = Number(process.env.PAD_US ?? 10);
const padKb = Number(process.env.PAD_KB ?? 3);
let padSink: unknown;
function pad(): unknown {
  const until = performance.now() + padUs / 1000;
  const garbage: object[] = [];
  for (let i = 0; i < padKb * 16; i++) garbage.push({ i, s: 'x' });
  padSink = garbage;
  while (performance.now() < until) padSink = [padSink];
  return padSink;
}
// `sdk+code` / `sdk+loop`: JS work before each SDK call, spread over PAD_FNS (150) distinct functions
// and object shapes, or as one tight arithmetic loop of about the same CPU: does the request path
// slow down with the code footprint run between requests, or with any work at all?
const padFns = Number(process.env.PAD_FNS ?? 150);
const padCode = new Function(
  `${Array.from({ length: padFns }, (_, i) => `function padF${i}(o) { const r = { a${i}: o.x + ${i}, b${i}: o.y ^ ${i}, c${i}: [o.x, ${i}] }; return (r.a${i} * 31 + r.b${i} + r.c${i}.length) | 0; }`).join('\n')}
  return function padCode(o) { let t = 0; ${Array.from({ length: padFns }, (_, i) => `t = (t + padF${i}(o)) | 0;`).join(' ')} return t; };
  //# sourceURL=bench/pad-code.js`,
)() as (o: { x: number; y: number }) => number;
// PAD_ITERS: the loop's length, set so that it costs about what padCode does (calibrate with
// `turns:`-free runs: each pad's own samples in the CPU profile).
const padIters = Number(process.env.PAD_ITERS ?? 20_000);
function padLoop(o: { x: number; y: number }): number {
  let t = o.x;
  for (let i = 0; i < padIters; i++) t = (Math.imul(t ^ i, 0x9e3779b1) + o.y) | 0;
  return t;
}
let padTotal = 0;
const sends = {
  'sdk+code': () => {
    padTotal += padCode({ x: padTotal & 7, y: 3 });
    return sdk.SendMessages({ Topic: path, Payload: body });
  },
  'sdk+loop': () => {
    padTotal += padLoop({ x: padTotal & 7, y: 3 });
    return sdk.SendMessages({ Topic: path, Payload: body });
  },
  'sdk+layers': async () => {
    await layers.send(body);
    return sdk.SendMessages({ Topic: path, Payload: body });
  },
  'sdk+pad': () => {
    pad();
    return sdk.SendMessages({ Topic: path, Payload: body });
  },
  lean,
  'http-connection': viaConnection,
  sdk: () => sdk.SendMessages({ Topic: path, Payload: body }),
  // The same call under another name: `AB=sdk,sdk-again` measures the method's own spread (A/A).
  'sdk-again': () => sdk.SendMessages({ Topic: path, Payload: body }),
  switchyard: () => producer.send(body),
  // Decomposition: the product client with a signal, the driver's CommonClient with and without one.
  'sdk-signal': () => sdk.request('SendMessages', { Topic: path, Payload: body }, { signal: shared }),
  // A new controller's signal per request (no other listener on it): is it the signal itself or
  // sharing one among the requests in flight that makes node-fetch's request outlive a scavenge?
  'sdk-own-signal': () =>
    sdk.request('SendMessages', { Topic: path, Payload: body }, { signal: new AbortController().signal }),
  common: () => common.request('SendMessages', { Topic: path, Payload: body }, {}),
  'common-batch': () =>
    common.request('SendBatchMessages', { Topic: path, Payload: body }, { signal: shared }),
  api: () => api.call('SendMessages', { Topic: path, Payload: body }, shared),
  'common-signal': () => common.request('SendMessages', { Topic: path, Payload: body }, { signal: shared }),
};
type Side = keyof typeof sends | 'switchyard-32' | 'switchyard-fresh' | 'sdk-queued';
// switchyard-32: send() from 32 callers, as many as the SDK side keeps in flight.
// switchyard-fresh: a producer opened for each run and closed after it, as bench/pulsar-http.ts's
// rounds do (there outside the measure; here inside it: one open and close per `count` sends).
// sdk-queued: the bench's expert pipelined send (bench/pulsar-http.ts expertSend): every call queued at
// once through a bound of 32, as the bench's Switchyard side has every send() waiting at once.
const run = async (which: Side, n: number) => {
  if (which === 'sdk-queued') {
    const limit = bounded(pipelined ? 32 : 1);
    await Promise.all(Array.from({ length: n }, () => limit(sends.sdk)));
    return;
  }
  if (which === 'switchyard-32') return concurrently(n, pipelined ? 32 : 1, sends.switchyard);
  if (which === 'switchyard-fresh') {
    const fresh = await broker.producer(name, { maxInFlight: 16 });
    await concurrently(n, pipelined ? 1_000 : 1, () => fresh.send(body));
    return fresh.close();
  }
  return concurrently(n, pipelined ? (which === 'switchyard' ? 1_000 : 32) : 1, sends[which]);
};
/** CPU time per thread so far, ns (schedstat's first field): the main thread's id is the pid. */
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
type Measured = Phase & { sysUs: number; otherUs: number; faults: number };
/** As measure.ts's measure(), with the kernel's share and V8's other threads' (GC, compiler) apart. */
async function measure(count: number, work: () => Promise<unknown>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const before = threads();
  const faults = process.resourceUsage().minorPageFault;
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const otherUs = (threads().other - before.other) / 1000;
  return {
    count,
    ms,
    cpuUs: used.user + used.system,
    sysUs: used.system,
    otherUs,
    faults: process.resourceUsage().minorPageFault - faults,
  };
}
const added = (x: Measured | undefined, y: Measured): Measured =>
  x === undefined
    ? y
    : {
        count: x.count + y.count,
        ms: x.ms + y.ms,
        cpuUs: x.cpuUs + y.cpuUs,
        sysUs: x.sysUs + y.sysUs,
        otherUs: x.otherUs + y.otherUs,
        faults: x.faults + y.faults,
      };
const report = (label: string, phase: Measured) =>
  `${label}: ${Math.round((phase.count / phase.ms) * 1000)} msg/s, ${(phase.cpuUs / phase.count).toFixed(1)} µs CPU/msg (${(phase.sysUs / phase.count).toFixed(1)} in the kernel, ${(phase.otherUs / phase.count).toFixed(1)} on other threads), ${(phase.faults / phase.count).toFixed(2)} minor faults/msg`;
// AB_PROFILE=dir: one CPU profile per side and round (dir/<side>-<n>.cpuprofile), so the two sides'
// phases can be compared from the same process, interleaved in time.
const profileDir = process.env.AB_PROFILE;
const session = profileDir === undefined ? undefined : new Session();
session?.connect();
await session?.post('Profiler.enable');
// AB_PROFILE_US: the sampling interval, µs (V8's default 1,000 gives too few samples per phase).
if (process.env.AB_PROFILE_US !== undefined)
  await session?.post('Profiler.setSamplingInterval', { interval: Number(process.env.AB_PROFILE_US) });
let profiles = 0;
async function profiled<T>(which: Side, work: () => Promise<T>): Promise<T> {
  // MARK=1: a line before and after each phase, so a --trace-gc-nvp log splits by side, e.g. each
  // side's promoted bytes: awk '/^@@phase/{s=$2} /^@@end/{s=""} s&&match($0,/promoted=[0-9]+/){p[s]+=substr($0,RSTART+9,RLENGTH-9)} END{for(k in p)print k,p[k]}'
  if (process.env.MARK === '1') {
    console.log(`@@phase ${which}`);
    try {
      return await profiled2(which, work);
    } finally {
      console.log('@@end');
    }
  }
  return profiled2(which, work);
}
async function profiled2<T>(which: Side, work: () => Promise<T>): Promise<T> {
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
  // The main thread's share alone (process CPU less V8's other threads): at 64 KiB and up, major-GC
  // marking on helper threads lands in whichever side's round it happens to (37–246 µs per message).
  const mainCpu: number[] = [];
  const rate: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // AB_CHUNK=n: the sides take turns every n calls within the round (as bench/pulsar-http.ts's
    // one-at-a-time rows), so load from neighbours lands on both alike; a round sums its turns.
    const chunk = Number(process.env.AB_CHUNK ?? count);
    let first: Measured | undefined;
    let second: Measured | undefined;
    for (let done = 0, turn = round; done < count; done += chunk, turn++) {
      const n = Math.min(chunk, count - done);
      const [p, q] = turn % 2 === 0 ? [a, b] : [b, a];
      const x = await profiled(p, () => measure(n, () => run(p, n)));
      const y = await profiled(q, () => measure(n, () => run(q, n)));
      const [forA, forB] = p === a ? [x, y] : [y, x];
      const [onFirst, onSecond] = round % 2 === 0 ? [forA, forB] : [forB, forA];
      first = added(first, onFirst);
      second = added(second, onSecond);
    }
    first = first!;
    second = second!;
    if (process.env.COUNT === '1') console.log(`round ${round}: ${countsSince()}`);
    const [x, y] = round % 2 === 0 ? [first, second] : [second, first];
    cpu.push(y.cpuUs / x.cpuUs);
    mainCpu.push((y.cpuUs - y.otherUs) / (x.cpuUs - x.otherUs));
    rate.push(x.ms / y.ms);
    console.log(`${report(a, x)} | ${report(b, y)} | cpu ${(y.cpuUs / x.cpuUs).toFixed(2)}×`);
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!.toFixed(2);
  console.log(
    `${b} / ${a}, median paired: rate ${median(rate)}×, CPU ${median(cpu)}×, main thread's CPU ${median(mainCpu)}×`,
  );
} else if (side.startsWith('alloc:')) {
  // Bytes allocated per call, a load-independent measure: with a young generation larger than a
  // round allocates (--min-semi-space-size=128 --max-semi-space-size=128) and a full GC before each
  // round, the heap's growth over a round without any GC is what it allocated. AB=a,b as for `ab`
  // gives the sides, alternating round by round after the warm-up.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('alloc: run node with --expose-gc');
  const { PerformanceObserver } = await import('node:perf_hooks');
  let collections = 0;
  new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  const [a, b] = (process.env.AB ?? side.slice('alloc:'.length)).split(',') as [Side, Side?];
  const sides = b === undefined ? [a] : [a, b];
  const warmUp = Number(process.env.AB_WARMUP ?? 2_000);
  for (const s of sides) await run(s, warmUp);
  const heapDir = process.env.HEAP_PROFILE;
  const heapSession = heapDir === undefined ? undefined : new Session();
  heapSession?.connect();
  let heapProfiles = 0;
  const rounds = Number(process.env.AB_ROUNDS ?? 6);
  const per = new Map<Side, number[]>(sides.map((s) => [s, []]));
  // Bytes of ArrayBuffer backing stores (Buffers: node-fetch's body, socket reads) made per call,
  // outside the V8 heap: a body copied or encoded once more into a Buffer shows here, not above.
  const external = new Map<Side, number[]>(sides.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
      gc();
      // The forced collection's entry reaches the observer later; let it arrive before counting.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const gcs = collections;
      const before = process.memoryUsage();
      // HEAP_PROFILE=dir: a sampling heap profile of each round that counts what scavenges freed
      // too (dir/<side>-<n>.heapprofile, for DevTools), i.e. where the allocations were made.
      await heapSession?.post('HeapProfiler.startSampling', {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
      await run(s, count);
      const after = process.memoryUsage();
      const grown = after.heapUsed - before.heapUsed;
      if (heapSession !== undefined) {
        const { profile } = await heapSession.post('HeapProfiler.stopSampling');
        writeFileSync(`${heapDir}/${s}-${heapProfiles++}.heapprofile`, JSON.stringify(profile));
      }
      // A round a GC ran in measured less than it allocated: dropped.
      if (collections === gcs) {
        per.get(s)?.push(grown / count);
        external.get(s)?.push((after.arrayBuffers - before.arrayBuffers) / count);
      } else if (process.env.ALLOC_VERBOSE) console.log(`${s}: ${collections - gcs} GCs in the round`);
    }
  }
  for (const [s, xs] of per) {
    const sorted = [...xs].sort((p, q) => p - q);
    console.log(
      `${s}: ${sorted.length ? Math.round(sorted[Math.floor(sorted.length / 2)]!) : 'n/a'} B allocated per call (median of ${sorted.length} rounds without a GC; ${sorted.map(Math.round).join(', ')}), ArrayBuffers ${(external.get(s) ?? []).map(Math.round).join(', ')} B`,
    );
  }
} else if (side === 'wire') {
  // `wire`: the bytes of a SendMessages request as each side writes them, captured by a plain TCP
  // server that answers every request alike (the emulator checks signatures; this does not), so the
  // two requests can be compared header by header: same headers, order, sizes and write count?
  const { createServer } = await import('node:net');
  const seen: string[] = [];
  const server = createServer((socket) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      seen.push(`(a write of ${chunk.length} B)`);
      const head = text.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (head < 0 || text.length < head + 4 + length) return;
      seen.push(text.slice(0, head + 4 + length));
      text = '';
      const reply = JSON.stringify({ Response: { MessageId: 'm', RequestId: 'r' } });
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${reply.length}\r\n\r\n${reply}`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const fakeAgent = new http.Agent({ keepAlive: true, maxSockets: 40 });
  const fakeSdk = new TdmqClient({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: {
      httpProfile: {
        endpoint: fake,
        protocol: 'http://',
        reqMethod: 'POST',
        agent: fakeAgent,
        reqTimeout: 30,
      },
    },
  });
  const fakeBroker = await connect(target.replace(host, fake));
  const fakeProducer = await fakeBroker.producer(name);
  for (const [label, send] of [
    ['SDK', () => fakeSdk.SendMessages({ Topic: path, Payload: body })],
    ['Switchyard', () => fakeProducer.send(body)],
  ] as const) {
    await send();
    seen.length = 0;
    await send();
    console.log(`=== ${label}, the second request\n${seen.join('\n')}`);
  }
  await fakeBroker.close();
  fakeAgent.destroy();
  server.close();
} else if (side.startsWith('turns:')) {
  // `turns:<side>[,<side>…]`: per call, promises created (v8.promiseHooks), process.nextTick
  // callbacks and timers set, after the warm-up: the event-loop and microtask work a call takes,
  // counted rather than timed.
  const { promiseHooks } = await import('node:v8');
  const which = side.slice('turns:'.length).split(',') as Side[];
  for (const s of which) await run(s, Number(process.env.AB_WARMUP ?? 2_000));
  let promises = 0;
  let ticks = 0;
  let timers = 0;
  const nextTick = process.nextTick;
  const setTimer = globalThis.setTimeout;
  for (const s of which) {
    promises = ticks = timers = 0;
    const stop = promiseHooks.onInit(() => {
      promises++;
    });
    process.nextTick = ((...args: Parameters<typeof nextTick>) => {
      ticks++;
      return nextTick(...args);
    }) as typeof nextTick;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimer>) => {
      timers++;
      return setTimer(...args);
    }) as typeof setTimer;
    await run(s, count);
    stop();
    process.nextTick = nextTick;
    globalThis.setTimeout = setTimer;
    const per = (n: number) => (n / count).toFixed(2);
    console.log(
      `${s}: ${per(promises)} promises, ${per(ticks)} nextTicks, ${per(timers)} setTimeouts per call`,
    );
  }
} else if (side.startsWith('series:')) {
  // CPU time per thread so far, ns (the first field of schedstat): the main thread's id is the pid.
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
  // SNAPSHOT_MS=t: a heap snapshot t ms into the measured run (requests in flight), to see what a
  // side keeps alive at once and why (e.g. the strings of 64 KiB requests: which retain them).
  if (process.env.SNAPSHOT_MS !== undefined) {
    const { writeHeapSnapshot } = await import('node:v8');
    setTimeout(
      () =>
        console.log(
          `heap snapshot: ${writeHeapSnapshot(`${process.env.SNAPSHOT_DIR ?? '.'}/${side}-${process.pid}.heapsnapshot`)}`,
        ),
      Number(process.env.SNAPSHOT_MS),
    );
  }
  // SURVIVORS=dir: a sampling heap profile of the measured run that leaves out what scavenges freed,
  // so it shows where the objects that outlived a scavenge (the ones promoted to the old
  // generation, marked and swept by a major GC) were allocated: dir/<side>-<pid>.heapprofile.
  const survivors = process.env.SURVIVORS;
  const sampler = survivors === undefined ? undefined : new Session();
  sampler?.connect();
  await sampler?.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  } as never);
  console.log(report(side!, await measure(count, () => run(which, count))));
  if (sampler !== undefined) {
    const { profile } = await sampler.post('HeapProfiler.stopSampling');
    writeFileSync(`${survivors}/${side}-${process.pid}.heapprofile`, JSON.stringify(profile));
    sampler.disconnect();
  }
}
session?.disconnect();
api.close();
await layered.close();
await broker.close();
agent.destroy();
await emulator.stop();
