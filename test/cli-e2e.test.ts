// The real `switchyard` binary against real brokers: RabbitMQ (always running here) and CMQ /
// Pulsar over HTTP served by an in-process emulator. Names are unique per run: other suites share
// the RabbitMQ server.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deleteRabbit, jsonLines, startCli } from './cli-support.js';

const RABBIT = 'amqp://guest:guest@127.0.0.1:5672';
const SECRET_ID = 'AKIDCLIE2ETEST';
const SECRET_KEY = 'cli-e2e-secret-7f3a91';
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const name = (what: string) => `cli-${what}-${run}`;

let emulator: RunningEmulator;
let dir: string;
let cmqUrl: (query?: Record<string, string>, key?: string) => string;
let pulsarUrl: string;

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [{ secretId: SECRET_ID, secretKey: SECRET_KEY }],
    cmq: { recreateGuardSeconds: 0 },
    // Unacked Pulsar-over-HTTP messages return after the topic's ack timeout (TDMQ: ≥ 60 s).
    pulsar: { defaultAckTimeoutMs: 3_000 },
  });
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
  const cmqHost = new URL(emulator.endpoints.cmq).host;
  const apiHost = new URL(emulator.endpoints.api).host;
  cmqUrl = (query = {}, key = SECRET_KEY) =>
    `cmq+http://${SECRET_ID}:${encodeURIComponent(key)}@${cmqHost}?${new URLSearchParams({
      region: 'ap-guangzhou',
      managementEndpoint: emulator.endpoints.api,
      bodyMode: 'envelope',
      ...query,
    })}`;
  pulsarUrl = `pulsar-http+http://${SECRET_ID}:${encodeURIComponent(SECRET_KEY)}@${apiHost}?${new URLSearchParams(
    {
      region: 'ap-guangzhou',
      cluster: 'pulsar-emulator',
      namespace: 'default',
      mode: 'envelope',
    },
  )}`;
});

/** Resolves once `predicate` holds, checked on each chunk the stream emits (the test's timeout guards a hang). */
function until(stream: NodeJS.ReadableStream, predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!predicate()) return;
      stream.off('data', check);
      resolve();
    };
    stream.on('data', check);
    check();
  });
}

/** The CMQ URL with its key replaced by an environment reference, as a config file holds it. */
function cmqUrlWithEnvKey(): string {
  return cmqUrl().replace(encodeURIComponent(SECRET_KEY), `\${env:CLI_TEST_CMQ_KEY}`);
}

afterAll(async () => {
  await emulator?.stop();
  await deleteRabbit({ [name('mig')]: ['billing', 'switchyard-bridge'] });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('switchyard send / receive', () => {
  it('round-trips body, headers and key through CMQ (envelope) with --json, and acks', async () => {
    const queue = name('cmq-rt');
    emulator.engines.cmq.createQueue(queue);
    const sent = await cli([
      'send',
      '--url',
      cmqUrl(),
      '-d',
      queue,
      '-H',
      'source=cli',
      '-H',
      'trace=t-1',
      '-k',
      'order-7',
      '--json',
      'hello cmq',
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ ok: true, sent: 1, failed: 0 });
    const got = await cli(['receive', '--url', cmqUrl(), '-s', queue, '--json', '--wait', '3000']);
    expect(got.code, got.stderr).toBe(0);
    const [message] = jsonLines(got.stdout);
    expect(message).toMatchObject({
      body: 'hello cmq',
      key: 'order-7',
      headers: { source: 'cli', trace: 't-1' },
      deliveryAttempt: 1,
    });
    expect(typeof message!.id).toBe('string');
    // Acked: nothing left.
    const again = await cli(['receive', '--url', cmqUrl(), '-s', queue, '--json', '--wait', '500']);
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout)).toEqual([]);
  });

  it('sends stdin lines and a file to Pulsar over HTTP; --no-ack gives messages back', async () => {
    const topic = name('pulsar');
    const file = join(dir, 'body.txt');
    await writeFile(file, 'from a file');
    // The consumer's subscription must exist before the messages are sent.
    expect((await cli(['receive', '--url', pulsarUrl, '-s', topic, '-g', 'g1', '--wait', '200'])).code).toBe(
      0,
    );
    expect(
      (await cli(['send', '--url', pulsarUrl, '-d', topic, '--lines'], { input: 'one\ntwo\n' })).code,
    ).toBe(0);
    expect((await cli(['send', '--url', pulsarUrl, '-d', topic, '--file', file, '-k', 'f'])).code).toBe(0);
    const peek = await cli([
      'receive',
      '--url',
      pulsarUrl,
      '-s',
      topic,
      '-g',
      'g1',
      '--max',
      '3',
      '--no-ack',
      '--json',
    ]);
    expect(peek.code, peek.stderr).toBe(0);
    expect(
      jsonLines(peek.stdout)
        .map((m) => m.body)
        .sort(),
    ).toEqual(['from a file', 'one', 'two']);
    const take = await cli([
      'receive',
      '--url',
      pulsarUrl,
      '-s',
      topic,
      '-g',
      'g1',
      '--max',
      '3',
      '--wait',
      '8000',
    ]);
    expect(take.code, take.stderr).toBe(0);
    // Left unacked, so back on the subscription after the ack timeout and received again (Pulsar
    // over HTTP counts attempts per process: a new process starts at 1).
    expect(take.stdout).toMatch(/#\d id=\S+ attempt=\d key=f .*\nfrom a file/);
    expect(take.stdout).toContain('\none\n');
    expect(take.stdout).toContain('\ntwo\n');
  });

  it('uses config:<binding> with a secret from an environment variable', async () => {
    const queue = name('cmq-binding');
    emulator.engines.cmq.createQueue(queue);
    const config = join(dir, 'switchyard.config.yaml');
    await writeFile(
      config,
      `brokers:
  cmq:
    url: "${cmqUrlWithEnvKey()}"
bindings:
  orders:
    broker: cmq
    destination: ${queue}
`,
    );
    const env = { CLI_TEST_CMQ_KEY: SECRET_KEY };
    const sent = await cli(['send', '--url', 'config:orders', '--config', config, 'via binding'], { env });
    expect(sent.code, sent.stderr).toBe(0);
    const got = await cli(['receive', '--url', 'config:orders', '--json'], {
      env: { ...env, SWITCHYARD_CONFIG: config },
    });
    expect(got.code, got.stderr).toBe(0);
    expect(jsonLines(got.stdout)[0]).toMatchObject({ body: 'via binding' });
    const doctor = await cli(['doctor', '--config', config, '--json'], { env });
    expect(doctor.code, doctor.stdout).toBe(0);
    const report = JSON.parse(doctor.stdout) as {
      ok: boolean;
      checks: Array<{ name: string; status: string }>;
    };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'config',
        'broker cmq: connect',
        'binding orders',
        `binding orders: source ${queue} on cmq`,
      ]),
    );
    // Without the variable: exit 2, naming it.
    const missing = await cli(['send', '--url', 'config:orders', '--config', config, 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('environment variable CLI_TEST_CMQ_KEY, which is not set');
  });
});

describe('migration bindings through the CLI', () => {
  // Six CLI processes, each starting tsx: on a loaded 2-core machine that alone can take 30 s.
  it('dual-write send, dual-read receive, and a drain bridge old → new by binding names', {
    timeout: 120_000,
  }, async () => {
    const exchange = name('mig');
    const queue = name('mig-q');
    emulator.engines.cmq.createQueue(queue);
    await cli(['receive', '--url', RABBIT, '-s', exchange, '-g', 'billing', '--wait', '100']);
    await cli(['receive', '--url', RABBIT, '-s', exchange, '-g', 'switchyard-bridge', '--wait', '100']);
    const config = join(dir, 'migration.yaml');
    await writeFile(
      config,
      `brokers:
  old: { url: "amqp://guest:\${env:CLI_TEST_RABBIT_PASSWORD}@127.0.0.1:5672" }
  new: { url: "${cmqUrlWithEnvKey()}" }
bindings:
  orders-dual:
    write: { brokers: [{ broker: old, destination: ${exchange} }, { broker: new, destination: ${queue} }], require: both }
    read: { brokers: [{ broker: old, source: ${exchange} }, { broker: new, source: ${queue} }] }
    destination: ${exchange}
    group: billing
  orders-old: { broker: old, destination: ${exchange}, group: switchyard-bridge }
  orders-new: { broker: new, destination: ${queue} }
`,
    );
    const env = {
      CLI_TEST_RABBIT_PASSWORD: 'guest',
      CLI_TEST_CMQ_KEY: SECRET_KEY,
      SWITCHYARD_CONFIG: config,
    };
    const sent = await cli(['send', '--url', 'config:orders-dual', '-k', 'dual-1', 'both sides', '--json'], {
      env,
    });
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    // One message on each side, merged by the dual-read binding; each ack goes to its own broker.
    const merged = await cli(['receive', '--url', 'config:orders-dual', '--max', '2', '--json'], { env });
    expect(merged.code, merged.stderr).toBe(0);
    expect(jsonLines(merged.stdout).map((m) => `${m.key}:${m.body}`)).toEqual([
      'dual-1:both sides',
      'dual-1:both sides',
    ]);
    // The copy for the old binding's group is still on the old broker: drain it into the new one
    // (the bridge reads a config: source as the binding's group).
    const bridge = await cli(
      ['bridge', '--from', 'config:orders-old', '--to', 'config:orders-new', '--idle', '1000', '--json'],
      { env },
    );
    expect(bridge.code, bridge.stderr).toBe(0);
    expect(JSON.parse(bridge.stdout)).toMatchObject({
      bridged: 1,
      failed: 0,
      from: 'config:orders-old',
      to: 'config:orders-new',
    });
    const drained = await cli(['receive', '--url', 'config:orders-new', '--json'], { env });
    expect(jsonLines(drained.stdout)).toEqual([
      expect.objectContaining({ key: 'dual-1', body: 'both sides' }),
    ]);
  });
});

describe('exit codes and error messages', () => {
  it('--help is 0 and lists the exit codes; a bad option or missing name is 1', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('130  interrupted');
    const bad = await cli(['send', '--url', RABBIT, '--bogus', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unknown option '--bogus'");
    const noDestination = await cli(['send', '--url', RABBIT, 'x']);
    expect(noDestination.code).toBe(1);
    expect(noDestination.stderr).toContain('--url is a URL, so --destination is required');
    expect(noDestination.stderr).not.toContain('guest:guest');
    const empty = await cli(['send', '--url', 'memory://', '-d', 'x'], { input: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('no message body: stdin was empty');
  });

  it('a bad URL, an unknown scheme, a missing file and an unknown binding are 2', async () => {
    const badUrl = await cli(['send', '--url', 'not a url', '-d', 'x', 'b']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('not a valid broker URL');
    const scheme = await cli(['receive', '--url', 'kafka://127.0.0.1', '-s', 'x', '--json']);
    expect(scheme.code).toBe(2);
    expect(JSON.parse(scheme.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'CONFIG' } });
    const missingFile = await cli([
      'send',
      '--url',
      'config:orders',
      '--config',
      join(dir, 'nope.yaml'),
      'x',
    ]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain(`config file not found: ${join(dir, 'nope.yaml')}`);
    const config = join(dir, 'unknown-binding.yaml');
    await writeFile(
      config,
      `brokers:\n  r: { url: "${RABBIT}" }\nbindings:\n  jobs: { broker: r, destination: jobs }\n`,
    );
    const unknown = await cli(['send', '--url', 'config:orderz', '--config', config, 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown binding "orderz"; defined bindings: jobs');
    const invalid = join(dir, 'invalid.yaml');
    await writeFile(
      invalid,
      `brokers:\n  r: { url: "${RABBIT}" }\nbindings:\n  jobs: { broker: r, destination: jobs, write: { brokers: [r], require: maybe } }\n`,
    );
    const bad = await cli(['doctor', '--config', invalid]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain(`invalid config ${invalid}: binding "jobs" field write.require`);
  });

  it('wrong credentials are 3 on RabbitMQ and CMQ, and no secret is printed', async () => {
    const password = 'wrong-pw-b81c55';
    const rabbit = await cli([
      'send',
      '--url',
      `amqp://guest:${password}@127.0.0.1:5672`,
      '-d',
      name('x'),
      'b',
    ]);
    expect(rabbit.code).toBe(3);
    expect(rabbit.stderr).toContain('refused the user name or password');
    const queue = name('cmq-auth');
    emulator.engines.cmq.createQueue(queue);
    const wrongKey = 'wrong-key-c0ffee42';
    const cmq = await cli(['send', '--url', cmqUrl({}, wrongKey), '-d', queue, 'b', '--json']);
    expect(cmq.code).toBe(3);
    expect(JSON.parse(cmq.stdout)).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    const doctor = await cli(['doctor', '--url', cmqUrl({}, wrongKey), '-s', queue]);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toContain('the broker rejected the credentials');
    for (const r of [rabbit, cmq, doctor]) {
      expect(r.stdout + r.stderr).not.toContain(password);
      expect(r.stdout + r.stderr).not.toContain(wrongKey);
      expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(wrongKey));
    }
  });

  it('a missing queue is 4; an unreachable broker is 3 with a diagnosis', async () => {
    const missing = await cli(['send', '--url', cmqUrl(), '-d', name('no-such-queue'), 'b']);
    expect(missing.code).toBe(4);
    const down = await cli(['doctor', '--url', 'amqp://guest:guest@127.0.0.1:1', '--timeout', '2000']);
    expect(down.code).toBe(3);
    expect(down.stdout).toContain('FAIL  network: cannot reach 127.0.0.1:1 (ECONNREFUSED)');
    expect(down.stdout).toContain('is it running, are host and port right');
    const ok = await cli(['doctor', '--url', RABBIT]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('OK    connect: connected (rabbitmq)');
  });

  it('switchyard emulator prints a working URL per flavour and its admin token, and stops cleanly on SIGTERM', {
    timeout: 120_000,
  }, async () => {
    const { child, done } = startCli(['emulator', '--seed', '3']);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as Record<string, unknown>);
      });
      child.on('close', () => reject(new Error(`emulator exited early: ${out}`)));
    });
    try {
      expect(ready.cmq).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const urls = ready.urls as Record<string, string>;
      expect(Object.keys(urls)).toEqual(['cmq', 'pulsar-http', 'rocketmq', 'rocketmq-remoting']);
      // The same URLs for people on stderr, and the admin token as the ready line has it.
      const token = ready.adminToken as string;
      await until(child.stderr!, () => err.includes('Authorization: Bearer'));
      for (const url of Object.values(urls)) expect(err).toContain(url);
      expect(err).toContain(`Authorization: Bearer ${token}`);
      const state = await fetch(`${ready.api as string}/_emulator/state`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(state.status).toBe(200);
      // The CMQ URL's credentials are accepted: the emulator answers "no such queue", not 4100.
      const sent = await cli(['send', '--url', urls.cmq!, '-d', 'no-queue', 'x']);
      expect(sent.code, sent.stderr).toBe(4);
      // Pulsar over HTTP and RocketMQ (gRPC, Remoting) round-trip a message through the pasted URL.
      for (const flavour of ['pulsar-http', 'rocketmq', 'rocketmq-remoting']) {
        const url = urls[flavour]!;
        const topic = name(`emu-${flavour}`);
        const group = await cli(['receive', '--url', url, '-s', topic, '-g', 'g', '--wait', '200']);
        expect(group.code, `${flavour}: ${group.stderr}`).toBe(0);
        const send = await cli(['send', '--url', url, '-d', topic, `via ${flavour}`]);
        expect(send.code, `${flavour}: ${send.stderr}`).toBe(0);
        const got = await cli(['receive', '--url', url, '-s', topic, '-g', 'g', '--wait', '10000', '--json']);
        expect(got.code, `${flavour}: ${got.stderr}`).toBe(0);
        expect(jsonLines(got.stdout).map((m) => m.body)).toEqual([`via ${flavour}`]);
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect((await done).code).toBe(0);
  });
});
