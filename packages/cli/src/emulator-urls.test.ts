// The emulator's ready-to-paste URLs: the built-in test pair printed as is, a user's key never
// (named by ${file:} / ${env:} instead), every flavour's URL parses as that driver's URL.

import { describe, expect, it } from 'vitest';
import { emulatorBin } from './commands/emulator.js';
import { credentialFromFlags, emulatorUrls, urlLines } from './emulator-urls.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

const ready = {
  cmq: 'http://127.0.0.1:4001',
  api: 'http://127.0.0.1:4002',
  rocketmq: '127.0.0.1:4003',
  remoting: '127.0.0.1:4004',
  adminToken: 'tok-0123456789abcdef',
};

describe('emulator URLs', () => {
  it('one URL per flavour with the default test credentials', () => {
    const urls = emulatorUrls(ready, credentialFromFlags([], {}));
    expect(urls).toEqual({
      cmq: 'cmq+http://AKIDEMULATOR:emulator-secret-key@127.0.0.1:4001?region=ap-guangzhou&managementEndpoint=http%3A%2F%2F127.0.0.1%3A4002',
      'pulsar-http':
        'pulsar-http+http://AKIDEMULATOR:emulator-secret-key@127.0.0.1:4002?region=ap-guangzhou&cluster=pulsar-emulator&namespace=default',
      rocketmq: 'rocketmq://AKIDEMULATOR:emulator-secret-key@127.0.0.1:4003',
      'rocketmq-remoting': 'rocketmq+remoting://AKIDEMULATOR:emulator-secret-key@127.0.0.1:4004',
    });
    const text = urlLines(urls, ready).join('\n');
    expect(text).toContain('  pulsar-http        pulsar-http+http://');
    expect(text).toContain('Authorization: Bearer tok-0123456789abcdef');
  });

  it("names a user's key by reference and never prints it", () => {
    const fromFile = credentialFromFlags(['--secret-id', 'AKIDmine', '--secret-key-file', '/run/key'], {});
    expect(emulatorUrls(ready, fromFile).rocketmq).toBe(
      `rocketmq://AKIDmine:\${file:/run/key}@127.0.0.1:4003`,
    );
    const fromEnv = credentialFromFlags([], {
      SWITCHYARD_EMULATOR_SECRET_ID: 'AKIDenv',
      SWITCHYARD_EMULATOR_SECRET_KEY: 'user-key-123',
    });
    const envUrls = JSON.stringify(emulatorUrls(ready, fromEnv));
    expect(envUrls).toContain(`AKIDenv:\${env:SWITCHYARD_EMULATOR_SECRET_KEY}@`);
    expect(envUrls).not.toContain('user-key-123');
    const onCommandLine = credentialFromFlags(['--secret-id=AKIDcl', '--secret-key', 'typed-key-456'], {});
    expect(JSON.stringify(emulatorUrls(ready, onCommandLine))).not.toContain('typed-key-456');
  });
});

describe('emulatorBin', () => {
  it('a missing emulator package is a CONFIG error (exit 2) that says what to install', () => {
    let error: unknown;
    try {
      emulatorBin('@switchyard/no-such-emulator');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining('npm install @switchyard/no-such-emulator'),
    });
    expect(exitCodeFor(error)).toBe(ExitCode.CONFIG);
  });

  it('finds the installed emulator bin', () => {
    expect(emulatorBin()).toMatch(/emulator[/\\]bin[/\\]switchyard-emulator\.mjs$/);
  });
});
