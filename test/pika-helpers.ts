// Runs the seed programs of test/fixtures/pika (TDMQ's Python getting-started producer and
// consumer) as child processes and reads the JSON lines they print. The interpreter must import
// Debian's python3-pika: `python3` on PATH may be another Python (pyenv) that cannot, so the
// system one is tried too. scripts/services.mjs installs python3-pika when neither can.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('./fixtures/pika/', import.meta.url));

let python: string | undefined;

/** The first interpreter that can `import pika`; throws (never skips) when there is none. */
export function pythonWithPika(): string {
  if (python !== undefined) return python;
  const candidates = [process.env.SWITCHYARD_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const candidate of candidates) {
    const r = spawnSync(candidate, ['-c', 'import pika'], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) {
      python = candidate;
      return candidate;
    }
  }
  throw new Error(
    `no Python here imports pika (tried ${candidates.join(', ')}); run: node scripts/services.mjs (installs Debian's python3-pika), or set SWITCHYARD_PYTHON`,
  );
}

export interface SeedLine {
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface SeedConnection {
  readonly host: string;
  readonly port: number;
  readonly vhost: string;
  readonly user: string;
  readonly password: string;
}

export class SeedProcess {
  readonly lines: SeedLine[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  #stderr = '';
  readonly #listeners = new Set<() => void>();

  constructor(script: 'seed_producer.py' | 'seed_consumer.py', env: Record<string, string>) {
    this.#child = spawn(pythonWithPika(), [`${FIXTURES}${script}`], {
      cwd: FIXTURES,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line !== '') this.lines.push(JSON.parse(line) as SeedLine);
        nl = pending.indexOf('\n');
      }
      for (const listener of [...this.#listeners]) listener();
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('close', (code) => {
        for (const listener of [...this.#listeners]) listener();
        resolve(code);
      });
    });
  }

  /** Lines of one event, in order. */
  events(event: string): SeedLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Resolves once `count` lines of `event` arrived; fails on exit or after `timeoutMs`. */
  async waitFor(event: string, count = 1, timeoutMs = 20_000): Promise<SeedLine[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events(event);
      if (found.length >= count) return found;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null || Date.now() > deadline) {
        throw new Error(
          `seed program: wanted ${count} "${event}" line(s), got ${found.length}; exit ${this.#child.exitCode ?? this.#child.signalCode}; stdout ${JSON.stringify(this.lines)}; stderr ${this.#stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#listeners.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()) + 10);
        this.#listeners.add(done);
      });
    }
  }

  /** Waits for a clean exit (status 0), with what it printed in the failure message. */
  async succeeded(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (code !== 0)
      throw new Error(
        `seed program exited ${code}; stdout ${JSON.stringify(this.lines)}; stderr ${this.#stderr}`,
      );
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    await this.exited;
  }
}

export function seedEnv(
  c: SeedConnection,
  extra: Record<string, string | number> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    SEED_HOST: c.host,
    SEED_PORT: String(c.port),
    SEED_VHOST: c.vhost,
    SEED_USER: c.user,
    SEED_PASSWORD: c.password,
  };
  for (const [k, v] of Object.entries(extra)) env[k] = String(v);
  return env;
}

/** The seed producer's bodies for its keys (first round). */
export function seedBody(routingKey: string): string {
  return `${routingKey}This is a new direct message.`;
}
