import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwitchyardError } from '../errors.js';
import { redact } from '../secret.js';
import { loadConfigFile, validateConfig } from './config-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function configError(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSwitchyardError(error)).toBe(true);
  return error as Error & { code: string; details: Record<string, unknown> };
}

const YAML = `
brokers:
  old:
    url: amqp://guest:\${env:RABBIT_PASSWORD}@127.0.0.1:5672
  new:
    driver: cmq
    region: ap-guangzhou
    secretId: \${env:CMQ_SECRET_ID}
    secretKey: \${env:CMQ_SECRET_KEY}
    model: \${env:CMQ_MODEL:-queue}
bindings:
  orders:
    broker: old
    destination: orders
    group: billing
    consumer: { prefetch: 8 }
  orders-migrating:
    destination: orders
    write: { brokers: [old, { broker: new, destination: orders-q }], require: primary }
    read: { brokers: [old, new] }
`;

describe('config file', () => {
  it('reads YAML and resolves env references (with fallbacks) after parsing', async () => {
    const path = await file('switchyard.config.yaml', YAML);
    const env = { RABBIT_PASSWORD: 'p@ss:word/#1', CMQ_SECRET_ID: 'AKIDX', CMQ_SECRET_KEY: 'sk-yaml-5e3b' };
    const { config, warnings, file: loaded } = await loadConfigFile({ path, env });
    expect(loaded).toBe(path);
    expect(warnings).toEqual([]);
    expect(config.brokers.old!.url).toBe('amqp://guest:p@ss:word/#1@127.0.0.1:5672');
    expect(config.brokers.new).toMatchObject({ driver: 'cmq', secretKey: 'sk-yaml-5e3b', model: 'queue' });
    expect(config.bindings['orders-migrating']!.write).toEqual({
      brokers: ['old', { broker: 'new', destination: 'orders-q' }],
      require: 'primary',
    });
    // Values referenced from secret fields are registered for redaction.
    expect(redact('failed with sk-yaml-5e3b')).toBe('failed with [redacted]');
  });

  it('reads JSON the same way, found through SWITCHYARD_CONFIG (relative to cwd)', async () => {
    await file(
      'other.json',
      JSON.stringify({
        brokers: { mem: { url: 'memory://json-test' } },
        bindings: { jobs: { broker: 'mem', source: 'jobs', write: undefined } },
      }),
    );
    const { config, file: loaded } = await loadConfigFile({
      cwd: dir,
      env: { SWITCHYARD_CONFIG: 'other.json' },
    });
    expect(loaded).toBe(join(dir, 'other.json'));
    expect(config.bindings.jobs).toMatchObject({ broker: 'mem', source: 'jobs' });
  });

  it('finds switchyard.config.yaml in the working directory by default', async () => {
    const sub = await mkdtemp(join(dir, 'cwd-'));
    await writeFile(join(sub, 'switchyard.config.json'), '{"brokers":{"m":{"url":"memory://"}}}');
    const { file: loaded } = await loadConfigFile({ cwd: sub, env: {} });
    expect(loaded).toBe(join(sub, 'switchyard.config.json'));
  });

  it('a missing environment variable is an error naming the variable, the field and the file', async () => {
    const path = await file('missing-env.yaml', YAML);
    const error = await configError(loadConfigFile({ path, env: { CMQ_SECRET_ID: 'AKIDX' } }));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(path);
    expect(error.message).toContain('brokers.new.secretKey references environment variable CMQ_SECRET_KEY');
    expect(error.message).toContain('RABBIT_PASSWORD');
    expect(error.details.missingEnv).toEqual(['RABBIT_PASSWORD', 'CMQ_SECRET_KEY']);
  });

  it('validation errors name the file, the binding and the field, without echoing values', async () => {
    const path = await file(
      'bad.yaml',
      `brokers:
  old: { url: "amqp://127.0.0.1" }
bindings:
  orders:
    broker: old
    destination: orders
    write: { brokers: [old, nowhere], require: always }
    consumer: { prefetch: -3 }
`,
    );
    const error = await configError(loadConfigFile({ path, env: {} }));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(`invalid config ${path}`);
    expect(error.message).toContain('binding "orders" field write.require');
    expect(error.message).toContain('binding "orders" field consumer.prefetch');
    expect(error.message).not.toContain('always');
    expect(error.details.bindings).toEqual(['orders']);
    expect(error.details.fields).toContain('bindings.orders.write.require');
  });

  it('an unknown broker reference is named with the defined ones', () => {
    expect(() =>
      validateConfig(
        { brokers: { a: { url: 'memory://' } }, bindings: { jobs: { broker: 'b', destination: 'jobs' } } },
        { file: '/etc/switchyard.yaml' },
      ),
    ).toThrow(/\/etc\/switchyard\.yaml: binding "jobs" field broker: unknown broker "b"; defined brokers: a/);
  });

  it('brokers need exactly one of url and driver; bindings need a destination or source', () => {
    expect(() => validateConfig({ brokers: { a: {} } })).toThrow(/broker "a" field driver: give exactly one/);
    expect(() => validateConfig({ brokers: { a: { url: 'memory://', region: 'x' } } })).toThrow(
      /broker "a" field region: a broker given by "url"/,
    );
    expect(() =>
      validateConfig({ brokers: { a: { url: 'memory://' } }, bindings: { j: { broker: 'a' } } }),
    ).toThrow(/binding "j" field destination: give "destination" or "source"/);
  });

  it('a missing file, or one that is not YAML, is a CONFIG error naming the file', async () => {
    const missing = join(dir, 'nope.yaml');
    const error = await configError(loadConfigFile({ path: missing, env: {} }));
    expect(error.message).toBe(`config file not found: ${missing}`);
    const broken = await file('broken.yaml', 'brokers: [unclosed\n');
    expect((await configError(loadConfigFile({ path: broken, env: {} }))).message).toContain(
      `config file ${broken} is not valid YAML`,
    );
    const empty = await mkdtemp(join(dir, 'empty-'));
    expect((await configError(loadConfigFile({ cwd: empty, env: {} }))).message).toContain('no config file');
  });

  it('inline secrets work but are warned about, and are registered for redaction', () => {
    const { warnings, config } = validateConfig(
      {
        brokers: {
          rabbit: { url: 'amqp://guest:inline-pw-77a1@localhost' },
          cmq: { driver: 'cmq', region: 'ap-guangzhou', secretId: 'AKID', secretKey: 'inline-sk-91c2' },
        },
      },
      { file: 'switchyard.config.yaml', env: {} },
    );
    expect(config.brokers.cmq!.secretKey).toBe('inline-sk-91c2');
    expect(warnings).toEqual([
      expect.stringContaining('brokers.rabbit.url has a password inline'),
      expect.stringContaining(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference syntax
        'brokers.cmq.secretKey holds a secret inline; reference an environment variable instead, e.g. ${env:CMQ_SECRET_KEY}',
      ),
    ]);
    expect(warnings.join('\n')).not.toContain('inline-sk-91c2');
    expect(redact('x inline-sk-91c2 y inline-pw-77a1')).toBe('x [redacted] y [redacted]');
  });

  it('a file that does not parse: the error says where, never quotes the line (it may hold a secret)', async () => {
    const yaml = await file(
      'inline-broken.yaml',
      "brokers:\n  a:\n    secretKey: 'never-registered-6b2e' x: y\n",
    );
    const json = await file('inline-broken.json', '{"brokers": {"a": {"secretKey": never-registered-6b2e}}}');
    for (const [path, says] of [
      [yaml, /is not valid YAML: .+ at line 3, column \d+$/],
      [json, /is not valid JSON: Unexpected token '.'$/],
    ] as const) {
      const error = await configError(loadConfigFile({ path, env: {} }));
      expect(error.message).toMatch(says);
      expect(error.cause).toBeUndefined();
      expect(inspect(error, { depth: Infinity })).not.toContain('never-registered');
    }
  });
});
