// `switchyard doctor`: checks a URL or a config file (every binding, or one) step by step —
// configuration, driver package, network reachability, connection and credentials, topology,
// capabilities — and says for each failure what is wrong and what to do about it. The single
// checks are in doctor-checks.ts.

import {
  type Bindings,
  type Broker,
  ConfigError,
  connect,
  driverForScheme,
  errorCode,
  fromConfig,
  redact,
} from '@switchyard/core';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { errorText, type Io, line } from '../output.js';
import { isBindingSpec } from '../target.js';
import {
  type Check,
  checkCapabilities,
  checkDriver,
  checkReachable,
  compareForDualWrite,
  diagnose,
  type Fail,
  probeSource,
  safeDriver,
  withTimeout,
} from './doctor-checks.js';

export interface DoctorOptions {
  url?: string;
  source?: string;
  group?: string;
  timeout: number;
  json?: boolean;
  configPath?: string;
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
