// No credential on any terminal: every `switchyard` command's failure paths, run as the real bin,
// text and --json, with every credential a sentinel (sentinelLeakCheck searches both streams of
// every run for every form of it). Also: the ways to keep a secret off the command line
// (${env:NAME}, ${file:PATH}, --password-file) work, and an inline one is warned about without
// being printed.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sentinelLeakCheck } from '@switchyard/conformance';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli } from './cli-support.js';
import { createTestVhost, rabbitmqctl, type TestVhost } from './rabbitmq-helpers.js';

const leaks = sentinelLeakCheck('cli output');
const SECRET = leaks.sentinel.value;
const WRONG = leaks.sentinel.another('wrong');
const ROCKET_TOKEN = leaks.sentinel.another('rocketmq-role-token');
const SECRET_ID = 'AKIDclisecretsentinel';
const enc = encodeURIComponent;
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

let emulator: RunningEmulator;
let rabbitUser: TestVhost;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [
      { secretId: SECRET_ID, secretKey: SECRET },
      { secretId: ROCKET_TOKEN, secretKey: SECRET },
    ],
    cmq: { recreateGuardSeconds: 0 },
    rocketmq: { autoCreate: false },
  });
  emulator.engines.cmq.createQueue(`cli-secrets-${run}`);
  rabbitUser = await createTestVhost('clisecrets');
  await rabbitmqctl('change_password', rabbitUser.user, SECRET).catch((error: unknown) => {
    throw new Error(leaks.sentinel.mask(String((error as Error).message)));
  });
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-secrets-'));
});

afterAll(async () => {
  await emulator?.stop();
  await rabbitUser?.cleanup();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs the bin; both streams go through the capture. */
async function sy(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await cli(args, { env, timeoutMs: 90_000 });
  leaks.text(result.stdout, `stdout of switchyard ${args[0]}`);
  leaks.text(result.stderr, `stderr of switchyard ${args[0]}`);
  return result;
}

const rabbit = (password: string) =>
  `amqp://${enc(rabbitUser.user)}:${enc(password)}@127.0.0.1:5672/${enc(rabbitUser.vhost)}`;
const cmq = (key: string) =>
  `cmq+http://${SECRET_ID}:${enc(key)}@${new URL(emulator.endpoints.cmq).host}?region=ap-guangzhou`;
const pulsarHttp = (key: string) =>
  `pulsar-http+http://${new URL(emulator.endpoints.api).host}?region=ap-guangzhou&cluster=pulsar-emulator&secretId=${SECRET_ID}&secretKey=${enc(key)}`;
const rocketmq = (token: string) =>
  `rocketmq://${enc(token)}:${enc(SECRET)}@${emulator.endpoints.rocketmq}?cluster=cli&namespace=ns&startupTimeoutMs=5000`;
const configFile = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

interface Case {
  readonly name: string;
  readonly args: () => Promise<string[]> | string[];
  readonly env?: () => Record<string, string>;
  /** Exit code. */
  readonly exit: number;
  /** What the output must say (so the case fails for the reason it is about). */
  readonly says: RegExp;
  /** The command has no --json. */
  readonly textOnly?: boolean;
}

const cases: Case[] = [
  {
    name: 'send: wrong RabbitMQ password in the URL',
    args: () => ['send', '--url', rabbit(WRONG), '-d', 'q', 'x'],
    exit: 3,
    says: /credentials|password|refused/i,
  },
  {
    name: 'send: a URL that does not parse, the SecretKey in its query',
    args: () => ['send', '--url', `${pulsarHttp(SECRET)}`.replace(/:\d+\?/, ':99999?'), '-d', 't', 'x'],
    exit: 2,
    says: /not a valid broker URL/,
  },
  {
    name: 'send: wrong password from an env reference',
    args: () => ['send', '--url', rabbit(SECRET).replace(enc(SECRET), `\${env:SY_CLI_PW}`), '-d', 'q', 'x'],
    env: () => ({ SY_CLI_PW: enc(WRONG) }),
    exit: 3,
    says: /credentials|password|refused/i,
  },
  {
    name: 'receive: wrong CMQ SecretKey',
    args: () => ['receive', '--url', cmq(WRONG), '-s', `cli-secrets-${run}`, '--wait', '1000'],
    exit: 3,
    says: /SecretId|signature|credential|auth/i,
  },
  {
    name: 'receive: wrong RocketMQ role token (the URL user)',
    args: () => ['receive', '--url', rocketmq(WRONG), '-s', 'nosuch', '--wait', '1000'],
    exit: 3,
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'bridge: the source fails to open (wrong password in --from)',
    args: () => [
      'bridge',
      '--from',
      rabbit(WRONG),
      '-s',
      'q',
      '--to',
      cmq(SECRET),
      '-d',
      'q',
      '--idle',
      '500',
    ],
    exit: 3,
    says: /credentials|password|refused/i,
  },
  {
    name: 'bridge: the destination does not parse (SecretKey in --to)',
    args: () => [
      'bridge',
      '--from',
      rabbit(SECRET),
      '-s',
      'q',
      '--to',
      pulsarHttp(SECRET).replace(/:\d+\?/, ':99999?'),
      '-d',
      't',
      '--idle',
      '500',
    ],
    exit: 2,
    says: /not a valid broker URL/,
  },
  {
    name: 'doctor: Pulsar over HTTP with a wrong SecretKey in the query',
    args: () => ['doctor', '--url', pulsarHttp(WRONG), '-s', `cli-secrets-${run}`, '--timeout', '5000'],
    exit: 3,
    says: /UNAUTHENTICATED|credentials|signature|auth/i,
  },
  {
    name: 'doctor: a URL that does not parse, the password in it',
    args: () => ['doctor', '--url', `amqp://u:${enc(SECRET)}@127.0.0.1:notaport`],
    exit: 2,
    says: /not a valid broker URL/,
  },
  {
    name: 'doctor: RocketMQ with a wrong role token',
    args: () => ['doctor', '--url', rocketmq(WRONG), '-s', 'nosuch', '--timeout', '8000'],
    exit: 3,
    says: /role|token|secretKey|accessKey|UNAUTHENTICATED/i,
  },
  {
    name: 'doctor: a config file with an inline secret and a wrong one',
    args: async () => [
      'doctor',
      '--config',
      await configFile(
        'inline.yaml',
        `brokers:\n  main:\n    url: ${rabbit(WRONG)}\nbindings:\n  orders:\n    broker: main\n    destination: q\n`,
      ),
    ],
    exit: 3,
    says: /credentials|password|refused/i,
  },
  {
    name: 'send: --password-file that does not exist',
    args: () => [
      'send',
      '--url',
      'amqp://u@127.0.0.1:5672',
      '--password-file',
      join(dir, 'nope'),
      '-d',
      'q',
      'x',
    ],
    exit: 2,
    says: /--password-file: cannot read .*nope \(ENOENT\)/,
  },
  {
    name: 'stats: wrong RabbitMQ password in the URL',
    args: () => ['stats', '--url', rabbit(WRONG), '-s', 'q', '-g', 'g'],
    exit: 3,
    says: /credentials|password|refused/i,
  },
  {
    name: 'purge: wrong CMQ SecretKey',
    args: () => [
      'purge',
      '--url',
      `${cmq(WRONG)}&managementEndpoint=${enc(emulator.endpoints.api)}`,
      '-s',
      `cli-secrets-${run}`,
      '--yes',
    ],
    exit: 3,
    says: /SecretId|signature|credential|auth/i,
  },
  {
    name: 'list: wrong SecretKey on Pulsar over HTTP (in the query)',
    args: () => ['list', '--url', pulsarHttp(WRONG)],
    exit: 3,
    says: /UNAUTHENTICATED|credentials|signature|auth/i,
  },
  {
    name: 'stats: a flavour without it (RocketMQ), the secret in the URL',
    args: () => ['stats', '--url', rocketmq(ROCKET_TOKEN), '-s', 'q'],
    exit: 5,
    says: /not on this flavour/,
  },
  {
    name: 'receive --from-beginning: not on this flavour, the password in the URL',
    args: () => ['receive', '--url', rabbit(SECRET), '-s', 'q', '--from-beginning'],
    exit: 5,
    says: /--from-beginning is not on this flavour/,
  },
  {
    name: 'emulator: bad flags with a SecretKey among them',
    args: () => ['emulator', '--secret-id', SECRET_ID, '--secret-key', SECRET, '--secret-key', WRONG],
    exit: 1,
    says: /give one --secret-key for every --secret-id/,
    textOnly: true,
  },
];

describe('no credential in any CLI output', () => {
  const runs = cases.flatMap((c) =>
    (c.textOnly ? [false] : [false, true]).map(
      (json) => [`${c.name}${json ? ' (--json)' : ''}`, c, json] as const,
    ),
  );
  it.each(runs)('%s', async (_name, c, json) => {
    const before = leaks.findings.length;
    const args = await c.args();
    const result = await sy(json ? [...args, '--json'] : args, c.env?.() ?? {});
    expect(result.code, leaks.sentinel.mask(result.stdout + result.stderr)).toBe(c.exit);
    expect(result.stdout + result.stderr).toMatch(c.says);
    if (json) expect(result.stdout.trim().split('\n').at(-1)).toMatch(/^\{.*"ok":false/);
    expect(leaks.findings.slice(before)).toEqual([]);
  });
});

describe('secrets off the command line', () => {
  it('--password-file and a file reference give the password; an inline one is warned about, not printed', async () => {
    const queue = `cli-secrets-${run}`;
    const passwordFile = join(dir, 'rabbit-password');
    await writeFile(passwordFile, `${SECRET}\n`);
    const keyFile = join(dir, 'cmq-key');
    await writeFile(keyFile, enc(SECRET));
    const bare = `amqp://${enc(rabbitUser.user)}@127.0.0.1:5672/${enc(rabbitUser.vhost)}`;
    // A consumer first: its group's queue must exist before the send (fan-out on RabbitMQ).
    const first = await sy([
      'receive',
      '--url',
      bare,
      '--password-file',
      passwordFile,
      '-s',
      queue,
      '--wait',
      '300',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/warning/);
    const sent = await sy([
      'send',
      '--url',
      bare,
      '--password-file',
      passwordFile,
      '-d',
      queue,
      '--json',
      'kept off',
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    const got = await sy(['receive', '--url', bare, '--password-file', passwordFile, '-s', queue, '--json']);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout.trim())).toMatchObject({ body: 'kept off' });
    // ${file:} inside a URL (used as written, so the file holds the encoded key).
    const viaFile = cmq(SECRET).replace(enc(SECRET), `\${file:${keyFile}}`);
    const cmqSent = await sy(['send', '--url', viaFile, '-d', queue, '--json', 'via file']);
    expect(cmqSent.code, cmqSent.stderr).toBe(0);
    expect(cmqSent.stderr).not.toMatch(/warning/);
    // Inline: it works, and says to move the secret.
    const inline = await sy(['send', '--url', cmq(SECRET), '-d', queue, 'inline']);
    expect(inline.code, inline.stderr).toBe(0);
    expect(inline.stderr).toMatch(/warning: --url has a credential written in it.*\$\{env:NAME\}/);
  });

  it('help and examples put no credential on the command line', async () => {
    for (const command of [[], ['send'], ['receive'], ['bridge'], ['doctor']]) {
      const help = await sy([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).not.toMatch(/[a-z+]+:\/\/[^\s:@/'$]+:[^\s@$]+@/);
      if (command.length === 0)
        expect(help.stdout).toMatch(/Secrets:[\s\S]*\$\{env:NAME\}[\s\S]*--password-file/);
    }
  });
});
