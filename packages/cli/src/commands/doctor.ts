// `switchyard doctor`: checks a URL or a config file (every binding, or one) step by step —
// configuration, driver package, network reachability, connection and credentials, topology,
// capabilities — and says for each failure what is wrong and what to do about it.

import { connect as netConnect } from 'node:net';
import {
  type Bindings,
  type Broker,
  type Capabilities,
  ConfigError,
  connect,
  driverForScheme,
  errorCode,
  fromConfig,
  loadDriver,
  redact,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { errorText, type Io, line } from '../output.js';
import { isBindingSpec } from '../target.js';

export interface DoctorOptions {
  url?: string;
  source?: string;
  group?: string;
  timeout: number;
  json?: boolean;
  configPath?: string;
}

type Status = 'ok' | 'fail' | 'skip' | 'warn';
interface Check {
  name: string;
  status: Status;
  detail: string;
  diagnosis?: string;
  code?: string;
}

export async function doctorCommand(
  options: DoctorOptions,
  io: Io,
  warn: (text: string) => void,
): Promise<number> {
  const checks: Check[] = [];
  let exit: number = ExitCode.OK;
  const fail = (name: string, error: unknown, what: string) => {
    checks.push({
      name,
      status: 'fail',
      detail: errorText(error),
      diagnosis: diagnose(error, what),
      code: errorCode(error),
    });
    if (exit === ExitCode.OK)
      exit = exitCodeFor(error) === ExitCode.INTERNAL ? ExitCode.DOCTOR : exitCodeFor(error);
  };
  const target = options.url;
  if (target !== undefined && !isBindingSpec(target)) {
    await checkUrl(target, options, checks, fail);
  } else {
    await checkConfig(target?.slice('config:'.length), options, checks, fail, warn);
  }
  const ok = exit === ExitCode.OK;
  if (options.json) {
    line(io.stdout, JSON.stringify({ ok, target: target === undefined ? 'config' : redact(target), checks }));
  } else {
    for (const c of checks) {
      line(io.stdout, `${c.status.toUpperCase().padEnd(4)}  ${c.name}: ${c.detail}`);
      if (c.diagnosis !== undefined) line(io.stdout, `      → ${c.diagnosis}`);
    }
    line(io.stdout, ok ? 'doctor: all checks passed' : `doctor: problems found (exit ${exit})`);
  }
  return exit;
}

type Fail = (name: string, error: unknown, what: string) => void;

async function checkUrl(target: string, options: DoctorOptions, checks: Check[], fail: Fail): Promise<void> {
  let url: URL;
  try {
    url = new URL(target);
  } catch (error) {
    fail('url', new ConfigError(`not a valid broker URL: "${redact(target)}"`, { cause: error }), 'url');
    return;
  }
  const driverName = driverForScheme(url.protocol);
  if (driverName === undefined) {
    fail('url', new ConfigError(`no driver for URL scheme "${url.protocol}"`), 'url');
    return;
  }
  checks.push({ name: 'url', status: 'ok', detail: `${redact(target)} → driver ${driverName}` });
  if (!(await checkDriver(driverName, checks, fail))) return;
  if (!(await checkReachable(url, options.timeout, checks, fail))) return;
  let broker: Broker;
  try {
    // One attempt per probe: a diagnosis wants the first real error, not a retry loop's TIMEOUT.
    broker = await withTimeout(connect(target, { retry: { maxAttempts: 1 } }), options.timeout, 'connect');
  } catch (error) {
    fail('connect', error, 'connect');
    return;
  }
  try {
    checks.push({ name: 'connect', status: 'ok', detail: `connected (${broker.driver})` });
    checkCapabilities('capabilities', broker.capabilities, checks);
    if (options.source === undefined) {
      checks.push({
        name: 'source',
        status: 'skip',
        detail:
          'no --source given: credentials of HTTP flavours (CMQ, Pulsar over HTTP) are checked per request, so give --source to check them and the topology',
      });
    } else {
      await probeSource(broker, options.source, options.group, options.timeout, 'source', checks, fail);
    }
  } finally {
    await broker.close({ timeoutMs: 2_000 }).catch(() => {});
  }
}

async function checkConfig(
  only: string | undefined,
  options: DoctorOptions,
  checks: Check[],
  fail: Fail,
  warn: (text: string) => void,
): Promise<void> {
  let bindings: Bindings;
  const warnings: string[] = [];
  try {
    bindings = await fromConfig({
      ...(options.configPath ? { path: options.configPath } : {}),
      onWarning: (w) => {
        warnings.push(w);
        warn(w);
      },
    });
  } catch (error) {
    fail('config', error, 'config');
    return;
  }
  checks.push({
    name: 'config',
    status: warnings.length > 0 ? 'warn' : 'ok',
    detail: `${bindings.file}: ${bindings.brokerNames.length} broker(s), ${bindings.bindingNames.length} binding(s)${warnings.length > 0 ? `; ${warnings.length} warning(s): ${warnings.join('; ')}` : ''}`,
  });
  try {
    let names = bindings.bindingNames;
    if (only !== undefined) {
      try {
        bindings.binding(only);
      } catch (error) {
        fail(`binding ${only}`, error, 'config');
        return;
      }
      names = [only];
    }
    const brokerNames = new Set<string>();
    for (const name of names) {
      const b = bindings.binding(name);
      for (const side of [...b.write, ...b.read]) brokerNames.add(side.broker);
    }
    if (only === undefined) for (const name of bindings.brokerNames) brokerNames.add(name);
    const brokers = new Map<string, Broker>();
    for (const name of brokerNames) {
      const entry = bindings.loaded.config.brokers[name]!;
      const driverName =
        entry.driver ?? (entry.url !== undefined ? safeDriver(entry.url) : undefined) ?? 'unknown';
      if (!(await checkDriver(driverName, checks, fail, `broker ${name}: driver`))) continue;
      if (entry.url !== undefined) {
        const url = new URL(entry.url);
        if (!(await checkReachable(url, options.timeout, checks, fail, `broker ${name}: network`))) continue;
      }
      try {
        const broker = await withTimeout(bindings.broker(name), options.timeout, 'connect');
        brokers.set(name, broker);
        checks.push({
          name: `broker ${name}: connect`,
          status: 'ok',
          detail: `connected (${broker.driver})`,
        });
        checkCapabilities(`broker ${name}: capabilities`, broker.capabilities, checks);
      } catch (error) {
        fail(`broker ${name}: connect`, error, 'connect');
      }
    }
    for (const name of names) {
      const b = bindings.binding(name);
      const mode = [
        b.write.length === 2
          ? `dual-write (require ${b.require})`
          : b.write.length === 1
            ? `writes ${b.write[0]!.broker}`
            : 'no writes',
        b.read.length === 2 ? 'dual-read' : b.read.length === 1 ? `reads ${b.read[0]!.broker}` : 'no reads',
      ].join(', ');
      checks.push({ name: `binding ${name}`, status: 'ok', detail: mode });
      if (b.write.length === 2) {
        const [p, s] = [brokers.get(b.write[0]!.broker), brokers.get(b.write[1]!.broker)];
        if (p && s) compareForDualWrite(name, p, s, checks);
      }
      for (const side of b.read) {
        const broker = brokers.get(side.broker);
        if (broker === undefined) continue;
        await probeSource(
          broker,
          side.source,
          options.group ?? side.group,
          options.timeout,
          `binding ${name}: source ${side.source} on ${side.broker}`,
          checks,
          fail,
        );
      }
    }
  } finally {
    await bindings.close({ timeoutMs: 2_000 }).catch(() => {});
  }
}

function safeDriver(url: string): string | undefined {
  try {
    return driverForScheme(new URL(url).protocol);
  } catch {
    return undefined;
  }
}

async function checkDriver(name: string, checks: Check[], fail: Fail, label = 'driver'): Promise<boolean> {
  try {
    await loadDriver(name);
    checks.push({ name: label, status: 'ok', detail: `${name} driver loaded` });
    return true;
  } catch (error) {
    fail(label, error, 'driver');
    return false;
  }
}

const DEFAULT_PORTS: Record<string, number> = {
  amqp: 5672,
  amqps: 5671,
  'cmq+http': 80,
  'cmq+https': 443,
  'pulsar-http+http': 80,
  'pulsar-http+https': 443,
  rocketmq: 8081,
  'rocketmq+tls': 8081,
  pulsar: 6650,
  'pulsar+ssl': 6651,
};

/** A plain TCP connect, so "nothing listens there" is told apart from "wrong credentials". */
async function checkReachable(
  url: URL,
  timeoutMs: number,
  checks: Check[],
  fail: Fail,
  label = 'network',
): Promise<boolean> {
  const scheme = url.protocol.replace(/:$/, '');
  const port = url.port !== '' ? Number(url.port) : DEFAULT_PORTS[scheme];
  if (scheme === 'memory' || port === undefined || url.hostname === '') {
    checks.push({ name: label, status: 'skip', detail: 'no network endpoint' });
    return true;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = netConnect({ host, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('timeout', () => {
        socket.destroy();
        reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      socket.once('error', reject);
    });
    checks.push({ name: label, status: 'ok', detail: `${host}:${port} accepts connections` });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    fail(
      label,
      new UnavailableError(`cannot reach ${host}:${port} (${code}): ${(error as Error).message}`),
      'network',
    );
    return false;
  }
}

async function probeSource(
  broker: Broker,
  source: string,
  group: string | undefined,
  timeoutMs: number,
  label: string,
  checks: Check[],
  fail: Fail,
): Promise<void> {
  try {
    const consumer = await withTimeout(
      broker.consumer(source, { prefetch: 1, pollWaitMs: 1_000, ...(group ? { group } : {}) }),
      timeoutMs,
      'open consumer',
    );
    try {
      const [message] = await consumer.receive({ max: 1, waitMs: Math.min(timeoutMs, 2_000) });
      if (message !== undefined) await message.nack().catch(() => {});
      checks.push({
        name: label,
        status: 'ok',
        detail:
          message === undefined
            ? `readable${group ? ` by group ${group}` : ''}; credentials accepted; no message waiting`
            : `readable; credentials accepted; messages waiting (one was received and given back: its delivery count went up by one)`,
      });
    } finally {
      await consumer.close({ timeoutMs: 2_000 });
    }
  } catch (error) {
    fail(label, error, 'source');
  }
}

function checkCapabilities(label: string, caps: Readonly<Capabilities>, checks: Check[]): void {
  const on = (v: unknown) => v !== false && v !== 'none' && v !== 0;
  const names = [
    ['headers', caps.headers],
    ['binary bodies', caps.binaryBodies],
    ['delayed send', caps.delayedSend],
    ['nack', caps.nack],
    ['dead letter', caps.deadLetter],
    ['ordering keys', caps.orderingKeys],
    ['tag filter', caps.tagFilter],
    ['fan-out', caps.fanOut],
  ] as const;
  const detail = names
    .map(([n, v]) => `${n}: ${on(v) ? (typeof v === 'string' ? v : 'yes') : 'no'}`)
    .join(', ');
  checks.push({ name: label, status: 'ok', detail: `${detail}, max message ${caps.maxMessageBytes} bytes` });
}

function compareForDualWrite(binding: string, primary: Broker, secondary: Broker, checks: Check[]): void {
  const a = primary.capabilities;
  const b = secondary.capabilities;
  const gaps: string[] = [];
  if ((a.headers === 'none') !== (b.headers === 'none'))
    gaps.push('headers on one side only: messages with headers fail on the other');
  // Native and envelope both carry binary bodies; only a side that refuses them is a gap.
  if ((a.binaryBodies === false) !== (b.binaryBodies === false))
    gaps.push('binary bodies on one side only: non-UTF-8 bodies fail on the other');
  if (a.maxMessageBytes !== b.maxMessageBytes)
    gaps.push(
      `largest message differs (${a.maxMessageBytes} vs ${b.maxMessageBytes} bytes): the smaller one bounds both`,
    );
  if ((a.delayedSend === false) !== (b.delayedSend === false)) gaps.push('delayed send on one side only');
  if (a.maxTagsPerMessage !== b.maxTagsPerMessage)
    gaps.push(
      `tags per message differ (${a.maxTagsPerMessage} vs ${b.maxTagsPerMessage}): the smaller one bounds both`,
    );
  if (a.orderingKeys !== b.orderingKeys)
    gaps.push('ordering keys on one side only: messages with an orderingKey fail on the other');
  if (a.routingKeyFilter !== b.routingKeyFilter)
    gaps.push('routing keys on one side only: messages with a routingKey fail on the other');
  checks.push({
    name: `binding ${binding}: dual-write`,
    status: gaps.length > 0 ? 'warn' : 'ok',
    detail:
      gaps.length > 0
        ? gaps.join('; ')
        : `${primary.driver} and ${secondary.driver} accept the same messages`,
  });
}

function diagnose(error: unknown, what: string): string {
  switch (errorCode(error)) {
    case 'CONFIG':
      return what === 'driver'
        ? 'install the driver package named above'
        : 'fix the configuration named above (the URL, the config file, the binding or the environment variable)';
    case 'UNAUTHENTICATED':
      return 'the broker rejected the credentials: check user/password (TDMQ RabbitMQ: role name and role token), SecretId/SecretKey (CMQ, Pulsar over HTTP), and the environment variables the config references';
    case 'PERMISSION_DENIED':
      return 'logged in, but not allowed: grant the role access to this vhost, namespace or topic, or check the account is not in arrears';
    case 'UNAVAILABLE':
    case 'TIMEOUT':
      return 'cannot reach the broker: is it running, are host and port right, is there a firewall or VPC rule in the way?';
    case 'NOT_FOUND':
      return 'the source or its vhost/namespace does not exist: create it (TDMQ console), or let the driver create it (RabbitMQ topology=declare, CMQ/Pulsar manageTopology=true)';
    case 'UNSUPPORTED':
      return "this broker cannot do what the configuration asks: see the driver's capabilities";
    default:
      return `unexpected error while checking ${what}: run again, and report it if it persists`;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
