// `switchyard receive --follow / --from-beginning` and the memory:// warning, as the real bin:
// --follow against RabbitMQ survives empty polls until SIGINT (exit 130, everything printed and
// acked); --from-beginning on Pulsar over HTTP (emulator) gives a new group the older messages and
// is "not on this flavour" on RabbitMQ and CMQ; send to memory:// warns that the message vanishes.

import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deleteRabbit, jsonLines, startCli } from './cli-support.js';

const RABBIT = 'amqp://guest:guest@127.0.0.1:5672';
const SECRET_ID = 'AKIDCLIRECEIVE';
const SECRET_KEY = 'cli-receive-key-93d1';
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const exchange = `cli-follow-${run}`;

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ credentials: [{ secretId: SECRET_ID, secretKey: SECRET_KEY }] });
});

afterAll(async () => {
  await emulator?.stop();
  await deleteRabbit({ [exchange]: ['tail', 'head'] });
});

/** Resolves once `predicate` holds for what the stream has written, checked on each chunk. */
function until(stream: NodeJS.ReadableStream, text: () => string, predicate: (t: string) => boolean) {
  return new Promise<void>((resolve) => {
    const check = () => {
      if (!predicate(text())) return;
      stream.off('data', check);
      resolve();
    };
    stream.on('data', check);
    check();
  });
}

describe('switchyard receive --follow / --from-beginning', () => {
  it('--follow on RabbitMQ keeps receiving across empty polls until SIGINT (exit 130)', {
    timeout: 120_000,
  }, async () => {
    const { child, done } = startCli([
      'receive',
      '--url',
      RABBIT,
      '-s',
      exchange,
      '-g',
      'tail',
      '--follow',
      '--wait',
      '0',
      '--json',
    ]);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // Printed once the group's queue is declared; without --follow a 0 ms wait would end here.
    await until(
      child.stderr!,
      () => err,
      (t) => t.includes(`following ${exchange}`),
    );
    const broker = await connect(RABBIT);
    const producer = await broker.producer(exchange);
    await producer.send('first');
    await until(
      child.stdout!,
      () => out,
      (t) => t.includes('"first"'),
    );
    await producer.send(['second', 'third']);
    await until(
      child.stdout!,
      () => out,
      (t) => t.includes('"third"'),
    );
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    expect(jsonLines(result.stdout).map((m) => m.body)).toEqual(['first', 'second', 'third']);
    // Each was acked: the group's queue is empty.
    const consumer = await broker.consumer(exchange, { group: 'tail' });
    expect(await consumer.receive({ max: 10, waitMs: 300 })).toEqual([]);
    await broker.close();
  });

  it('--from-beginning: a new Pulsar-over-HTTP group gets the older messages; RabbitMQ and CMQ say "not on this flavour"', {
    timeout: 120_000,
  }, async () => {
    const api = new URL(emulator.endpoints.api).host;
    const pulsar = `pulsar-http+http://${SECRET_ID}:${SECRET_KEY}@${api}?region=ap-guangzhou&cluster=pulsar-emulator&namespace=default`;
    const topic = `cli-beginning-${run}`;
    // A first group makes the topic keep what is sent.
    expect((await cli(['receive', '--url', pulsar, '-s', topic, '-g', 'first', '--wait', '200'])).code).toBe(
      0,
    );
    expect(
      (await cli(['send', '--url', pulsar, '-d', topic, '--lines'], { input: 'old-1\nold-2\n' })).code,
    ).toBe(0);
    const replay = await cli([
      'receive',
      '--url',
      pulsar,
      '-s',
      topic,
      '-g',
      'replay',
      '--from-beginning',
      '--max',
      '2',
      '--wait',
      '10000',
      '--json',
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(jsonLines(replay.stdout).map((m) => m.body)).toEqual(['old-1', 'old-2']);
    const cmq = `cmq+http://${SECRET_ID}:${SECRET_KEY}@${new URL(emulator.endpoints.cmq).host}?region=ap-guangzhou`;
    for (const [url, driver] of [
      [RABBIT, 'rabbitmq'],
      [cmq, 'cmq'],
    ] as const) {
      const refused = await cli(['receive', '--url', url, '-s', 'orders', '--from-beginning']);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toContain(
        `--from-beginning is not on this flavour: ${driver} cannot start a new group`,
      );
      expect(refused.stderr).not.toContain(SECRET_KEY);
    }
  });

  it('--follow | head -n 1: the reader goes away, the command ends quietly, what it did not print stays queued', {
    timeout: 120_000,
  }, async () => {
    const { child, done } = startCli([
      'receive',
      '--url',
      RABBIT,
      '-s',
      exchange,
      '-g',
      'head',
      '--follow',
      '--json',
    ]);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(
      child.stderr!,
      () => err,
      (t) => t.includes(`following ${exchange}`),
    );
    const broker = await connect(RABBIT);
    const producer = await broker.producer(exchange);
    await producer.send('shown');
    await until(
      child.stdout!,
      () => out,
      (t) => t.includes('"shown"'),
    );
    child.stdout!.destroy(); // as `head -n 1` exits after its line
    await producer.send(['kept-1', 'kept-2']);
    const result = await done;
    expect(result.code, err).toBe(0);
    expect(err).not.toMatch(/EPIPE|Error:|at /);
    const consumer = await broker.consumer(exchange, { group: 'head' });
    const left: string[] = [];
    while (left.length < 2) {
      for (const m of await consumer.receive({ max: 10, waitMs: 2_000 })) {
        left.push(m.text());
        await m.ack();
      }
    }
    expect(left.sort()).toEqual(['kept-1', 'kept-2']);
    await broker.close();
  });

  it('send to memory:// succeeds and warns that the message vanishes when the command exits', async () => {
    const sent = await cli(['send', '--url', 'memory://', '-d', 'jobs', 'hello']);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('sent 1 message to jobs');
    expect(sent.stderr).toContain(
      'switchyard: warning: memory:// is an in-process memory broker: the message vanishes when this command exits, unread',
    );
    const remote = await cli(['send', '--url', RABBIT, '-d', `${exchange}-none`, 'x']);
    expect(remote.stderr).not.toContain('in-process memory broker');
  });
});
