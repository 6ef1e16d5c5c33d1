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
