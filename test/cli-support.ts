// Runs the real `switchyard` bin (packages/cli/bin/switchyard.mjs) as a child process.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../packages/cli/bin/switchyard.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const env = { ...process.env, ...options.env };
  delete env.SWITCHYARD_URL;
  delete env.SWITCHYARD_CONFIG;
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], {
    env,
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export function cli(
  args: readonly string[],
  options: {
    input?: string;
    env?: Record<string, string | undefined>;
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  const { child, done } = startCli(args, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return done.finally(() => clearTimeout(timer));
}

/** NDJSON lines of stdout, parsed. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Removes what the tests declared on the shared RabbitMQ server (exchanges and `exchange.group` queues). */
export async function deleteRabbit(exchanges: Record<string, readonly string[]>): Promise<void> {
  const amqp = await import('amqplib');
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    const channel = await connection.createChannel();
    for (const [exchange, groups] of Object.entries(exchanges)) {
      for (const group of groups) await channel.deleteQueue(`${exchange}.${group}`);
      await channel.deleteExchange(exchange);
    }
  } finally {
    await connection.close();
  }
}
