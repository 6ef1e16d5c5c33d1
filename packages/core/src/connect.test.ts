import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { UnavailableError } from './errors.js';
import { loadDriver, registerDriver } from './registry.js';

describe('connect', () => {
  it('picks the memory driver from memory:// and from a config object', async () => {
    for (const target of ['memory://connect-a', { driver: 'memory', name: 'connect-b' }] as const) {
      const broker = await connect(target);
      expect(broker.driver).toBe('memory');
      expect(Object.isFrozen(broker.capabilities)).toBe(true);
      await broker.close();
    }
  });

  it('falls back to SWITCHYARD_URL, then memory://', async () => {
    const saved = process.env.SWITCHYARD_URL;
    process.env.SWITCHYARD_URL = 'memory://from-env?autoCreate=false';
    try {
      const broker = await connect();
      await expect((await broker.producer('missing')).send('x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await broker.close();
    } finally {
      if (saved === undefined) delete process.env.SWITCHYARD_URL;
      else process.env.SWITCHYARD_URL = saved;
    }
  });

  it('rejects bad URLs and configs with CONFIG errors that name the problem and never echo a password', async () => {
    await expect(connect('not a url')).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(connect('ftp://host')).rejects.toThrow(/no driver for URL scheme "ftp:"/);
    await expect(connect({ driver: 'nosuch' })).rejects.toThrow(
      /unknown driver "nosuch"; known drivers: memory/,
    );
    await expect(connect({ driver: 'memory', retention: -1 })).rejects.toThrow(/config\.retention/);
    // @ts-expect-error the typed memory config has no `bogus`: the run-time check still names it
    await expect(connect({ driver: 'memory', bogus: 1 })).rejects.toThrow(/bogus/);
    await expect(connect('memory://x?retention=abc')).rejects.toThrow(/retention: must be a whole number/);
    await expect(connect({} as never)).rejects.toThrow(/config\.driver is required/);
    const error = (await connect('amqp://user:hunter2-pass@[bad').catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('hunter2-pass');
    expect(inspect(error)).not.toContain('hunter2-pass');
  });

  it('names the package to install when a driver needs one that is missing', async () => {
    // @switchyard/pulsar is in this workspace, but its optional peer pulsar-client (a native
    // addon) cannot be installed here: connect() loads the driver, which says what to install.
    await expect(connect('pulsar://localhost:6650')).rejects.toMatchObject({
      code: 'CONFIG',
      retryable: false,
      message: expect.stringMatching(
        /the pulsar driver needs the package pulsar-client.*npm install pulsar-client/,
      ),
    });
  });

  it('names the driver package to install when it is not installed', async () => {
    const notInstalled = async (pkg: string) => {
      throw Object.assign(new Error(`Cannot find package '${pkg}' imported from /srv/app/index.js`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    await expect(loadDriver('rocketmq', notInstalled)).rejects.toMatchObject({
      code: 'CONFIG',
      retryable: false,
      message: expect.stringContaining('install it with: npm install @switchyard/rocketmq'),
      details: { driver: 'rocketmq', package: '@switchyard/rocketmq' },
    });
    // Installed but bundled looks the same from inside: the error names the fix for that too.
    await expect(loadDriver('rocketmq', notInstalled)).rejects.toThrow(
      "bundled (esbuild, webpack, Rollup), the bundler cannot follow a driver picked by URL at run time: add import { driver } from '@switchyard/rocketmq' and registerDriver(driver)",
    );
    // Any other failure inside the package is its own error, not "install it".
    const broken = async () => {
      throw new SyntaxError('Unexpected token in @switchyard/rocketmq/dist/index.js');
    };
    await expect(loadDriver('rocketmq', broken)).rejects.toBeInstanceOf(SyntaxError);
  });

  it('retries retryable send failures with backoff, and gives up with TIMEOUT at the deadline', async () => {
    let failuresLeft = 2;
    const flaky = faultyMemory('flaky-memory', {
      beforeSend() {
        if (failuresLeft-- > 0) throw new UnavailableError('injected outage', { driver: 'flaky-memory' });
      },
    });
    registerDriver(flaky);
    const broker = await connect({
      driver: 'flaky-memory',
      name: 'flaky',
      retry: { initialDelayMs: 5, deadlineMs: 2_000 },
    });
    const consumer = await broker.consumer('t');
    const producer = await broker.producer('t');
    await expect(producer.send('after two failures')).resolves.toHaveProperty('messageId');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    expect(m?.text()).toBe('after two failures');
    await m?.ack();
    failuresLeft = 1_000;
    const slow = await broker.producer('t', {
      retry: { initialDelayMs: 5, maxDelayMs: 20, deadlineMs: 200 },
    });
    await expect(slow.send('never')).rejects.toMatchObject({
      code: 'TIMEOUT',
      cause: { code: 'UNAVAILABLE' },
    });
    await broker.close();
  });
});
