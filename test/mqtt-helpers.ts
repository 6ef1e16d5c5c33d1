// Shared by the MQTT tests: the shared Mosquitto's URL, fresh topic names and a line reader for
// the mosquitto_sub / mosquitto_pub child processes.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export const MQTT_URL = process.env.SWITCHYARD_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const MQTT_HOST = new URL(MQTT_URL).hostname;
export const MQTT_PORT = Number(new URL(MQTT_URL).port || 1883);

export function freshTopic(prefix: string): string {
  return `sy-test/${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Starts a mosquitto_* client and collects its stdout lines. */
export function spawnClient(
  command: string,
  args: string[],
): {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  waitFor(match: RegExp): Promise<void>;
} {
  // stdbuf: mosquitto_sub's printf output is block-buffered into a pipe, and the test waits for
  // its SUBACK line before publishing.
  const child = spawn('stdbuf', ['-oL', command, '-h', MQTT_HOST, '-p', String(MQTT_PORT), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const watchers: Array<{ match: RegExp; resolve: () => void }> = [];
  let rest = '';
  const onData = (chunk: Buffer) => {
    rest += chunk.toString('utf8');
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...watchers]) {
        if (w.match.test(line)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (match) =>
      lines.some((l) => match.test(l))
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            watchers.push({ match, resolve });
            void exited.then((code) =>
              reject(new Error(`${command} exited (${code}) before printing ${match}: ${lines.join('\n')}`)),
            );
          }),
  };
}

/**
 * A Mosquitto of this test's own on a free port, with a temp config and persistence directory, so
 * it can be restarted (SIGTERM saves sessions and queued messages, as a broker upgrade would)
 * without touching the shared broker on 1883 that other tests use.
 */
export interface PrivateMosquitto {
  readonly port: number;
  readonly url: string;
  restart(): Promise<void>;
  /** Stops the broker (an outage); the returned function starts it again on the same port. */
  outage(): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export async function startPrivateMosquitto(extraConfig: readonly string[] = []): Promise<PrivateMosquitto> {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createServer, connect: tcp } = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => resolve(address.port));
    });
  });
  const dir = await mkdtemp(join(tmpdir(), 'sy-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // Started as root, Mosquitto would switch to the mosquitto user, who cannot write here.
      `user ${process.env.USER ?? 'root'}`,
      'log_dest none',
      ...extraConfig,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const listening = async () => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = tcp({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the private Mosquitto did not listen on ${port}`);
  };
  const start = async () => {
    child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
    await listening();
  };
  const stopChild = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    restart: async () => {
      await stopChild();
      await start();
    },
    outage: async () => {
      await stopChild();
      return start;
    },
    stop: async () => {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
