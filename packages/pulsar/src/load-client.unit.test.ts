import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { driver } from './driver.js';
import { loadPulsarClient, resolvePulsarModule } from './load-client.js';
import type { PulsarModule } from './native-api.js';

const notFound = (spec: string) =>
  Object.assign(new Error(`Cannot find module '${spec}'\nRequire stack:\n- /app/x.js`), {
    code: 'MODULE_NOT_FOUND',
  });

describe('loading pulsar-client lazily (unit)', () => {
  it('importing the package does not load pulsar-client (it is not installed here)', () => {
    expect(driver.name).toBe('pulsar');
    expect(driver.schemes).toEqual(['pulsar', 'pulsar+ssl']);
    expect(() => loadPulsarClient()).toThrow(/Cannot find module 'pulsar-client'/);
  });

  it('a missing pulsar-client is a non-retryable CONFIG error that says what to install and how', () => {
    const cause = notFound('pulsar-client');
    let error: unknown;
    try {
      resolvePulsarModule(() => {
        throw cause;
      });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'CONFIG',
      retryable: false,
      driver: 'pulsar',
      cause,
      details: { package: 'pulsar-client', install: 'npm install pulsar-client' },
    });
    const text = (error as Error).message;
    expect(text).toContain('install it with: npm install pulsar-client');
    expect(text).toContain('libpulsar');
    expect(text).toContain('https://pulsar.apache.org/docs/client-libraries-cpp-setup/');
  });

  it('an installed pulsar-client whose native addon will not load says so, and how to rebuild', () => {
    const cause = notFound('/app/node_modules/pulsar-client/build/Release/napi-v4/pulsar.node');
    expect(() =>
      resolvePulsarModule(() => {
        throw cause;
      }),
    ).toThrow(/installed but its native addon did not load .*npm rebuild pulsar-client/);
    expect(() =>
      resolvePulsarModule(() => {
        throw new Error('libpulsar.so.3: cannot open shared object file');
      }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG', message: expect.stringMatching(/libpulsar/) }));
  });

  it('a module without Client is refused with the version range', () => {
    expect(() => resolvePulsarModule(() => ({}) as PulsarModule)).toThrow(/>=1\.14\.0 <2/);
  });

  it("connect('pulsar://…') loads this package, then fails with the pulsar-client message", async () => {
    for (const url of ['pulsar://localhost:6650', 'pulsar+ssl://localhost:6651']) {
      const error = (await connect(url).catch((e: unknown) => e)) as Error & { code?: string };
      expect(error.code).toBe('CONFIG');
      expect(error.message).toMatch(/npm install pulsar-client/);
      expect(error.message).not.toMatch(/npm install @switchyard\/pulsar/);
    }
  });
});
