// The single checks `switchyard doctor` is made of, each adding what it found to the list: driver
// package, network reachability, a consumer on a source, capabilities, a dual-write's two sides;
// and for a failure, what to do about it.

import { connect as netConnect } from 'node:net';
import {
  type Broker,
  type Capabilities,
  driverForScheme,
  errorCode,
  loadDriver,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core';

export type Status = 'ok' | 'fail' | 'skip' | 'warn';
export interface Check {
  name: string;
  status: Status;
  detail: string;
  diagnosis?: string;
  code?: string;
}

/** Records a failed check (`what` picks the diagnosis). */
export type Fail = (name: string, error: unknown, what: string) => void;

export function safeDriver(url: string): string | undefined {
  try {
    return driverForScheme(new URL(url).protocol);
  } catch {
    return undefined;
  }
}

export async function checkDriver(
  name: string,
  checks: Check[],
  fail: Fail,
  label = 'driver',
): Promise<boolean> {
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
export async function checkReachable(
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

export async function probeSource(
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

export function checkCapabilities(label: string, caps: Readonly<Capabilities>, checks: Check[]): void {
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

export function compareForDualWrite(
  binding: string,
  primary: Broker,
  secondary: Broker,
  checks: Check[],
): void {
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

export function diagnose(error: unknown, what: string): string {
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

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
