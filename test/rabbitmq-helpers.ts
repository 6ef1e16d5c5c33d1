// Shared by the rabbitmq-*.test.ts files: a dedicated vhost and user per test file on the real
// broker, so parallel files (and other people's tests) never see each other's exchanges and queues,
// and the chaos test can drop only its own connections.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BROKER_HOST = '127.0.0.1';
export const BROKER_PORT = 5672;

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['--quiet', ...args], { timeout: 30_000 });
  return stdout;
}

/** Fails (never skips) with a clear message when the broker is not listening. */
export async function requireBroker(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = tcpConnect({ host: BROKER_HOST, port: BROKER_PORT, timeout: 3_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    const fail = (why: string) => {
      socket.destroy();
      reject(
        new Error(
          `RabbitMQ is not reachable at ${BROKER_HOST}:${BROKER_PORT} (${why}); start it (npm run services, or rabbitmq-server -detached): these tests need the real broker`,
        ),
      );
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (e) => fail(e.message));
  });
}

/** A logger that keeps each warning's message, for tests that assert what the driver said. */
export function warningRecorder(): {
  warnings: string[];
  logger: { debug(): void; info(): void; error(): void; warn(fields: object, message?: string): void };
} {
  const warnings: string[] = [];
  const noop = () => {};
  return {
    warnings,
    logger: { debug: noop, info: noop, error: noop, warn: (_, m) => warnings.push(m ?? '') },
  };
}

export interface TestVhost {
  readonly vhost: string;
  readonly user: string;
  /** Distinctive, so tests can prove it never shows up in error text. */
  readonly password: string;
  /** amqp:// URL with the vhost URL-encoded. */
  readonly url: string;
  cleanup(): Promise<void>;
}

export async function createTestVhost(label: string): Promise<TestVhost> {
  await requireBroker();
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const vhost = `sy-${label}-${id}`;
  const user = `sy-${label}-${id}`;
  const password = `Pw-${randomBytes(9).toString('base64url')}-zz`;
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('add_user', user, password);
  await rabbitmqctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
  return {
    vhost,
    user,
    password,
    url: `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${BROKER_HOST}:${BROKER_PORT}/${encodeURIComponent(vhost)}`,
    async cleanup() {
      await rabbitmqctl('delete_vhost', vhost).catch(() => {});
      await rabbitmqctl('delete_user', user).catch(() => {});
    },
  };
}
