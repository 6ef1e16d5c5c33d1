// The sentinel capture must find what it is for: a check that never fires proves nothing. Each
// channel gets a planted leak here (with the real streams muted, so nothing reaches the output).

import { inspect } from 'node:util';
import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { LeakCapture, Sentinel } from './sentinel.js';

function muted<T>(run: () => T): T {
  const out = process.stdout.write;
  const err = process.stderr.write;
  const log = console.log;
  const warn = console.warn;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  console.log = () => {};
  console.warn = () => {};
  try {
    return run();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    console.log = log;
    console.warn = warn;
  }
}

describe('sentinel capture', () => {
  it('derives distinctive values and finds every encoded form of them', () => {
    const sentinel = new Sentinel();
    const wrong = sentinel.another('wrong');
    expect(sentinel.values).toEqual([sentinel.value, wrong]);
    expect(sentinel.value).not.toBe(wrong);
    const v = sentinel.value;
    const texts = {
      raw: `x${v}y`,
      url: `amqp://u:${encodeURIComponent(v)}@h`,
      json: JSON.stringify({ password: v }),
      inspect: inspect({ password: v }),
      basic: `Authorization: Basic ${Buffer.from(`user:${v}`).toString('base64')}`,
      basic1: Buffer.from(`u:${v}`).toString('base64'),
      basic2: Buffer.from(`us:${v}`).toString('base64url'),
      hex: Buffer.from(v).toString('hex'),
      // A partial redaction that leaves the random part behind.
      partial: `[redacted]${v.slice(12)}`,
    };
    for (const [name, text] of Object.entries(texts)) expect(sentinel.find(text), name).toBeDefined();
    expect(sentinel.find(`a ${'SY-SENTINEL-'} b [redacted]`)).toBeUndefined();
    expect(sentinel.mask(texts.raw)).not.toContain(v);
  });

  it('finds a planted leak in every channel, names it, and fails without quoting the secret', async () => {
    const sentinel = new Sentinel();
    const capture = new LeakCapture(sentinel, 'self-test');
    const v = sentinel.value;
    muted(() => {
      capture.install();
      try {
        process.stdout.write(`stdout ${v}\n`);
        process.stderr.write(Buffer.from(`stderr ${v}\n`));
        console.log('console %s', v);
        console.warn({ nested: { deeper: { password: v } } });
      } finally {
        capture.uninstall();
      }
    });
    capture.logger.warn({ err: { message: `refused ${v}` } }, 'login failed');
    capture.logger.info({}, `token=${encodeURIComponent(v)}`);
    const native = Object.assign(new TypeError('Invalid URL'), { input: `amqp://u:${v}@h:x` });
    capture.error(new Error('wrapped', { cause: native }), 'caught');
    capture.text(`child ${v}`, 'child stdout');
    const broker = capture.watch(
      await connect({ driver: 'memory', name: `sentinel-self-test-${process.pid}` }),
    );
    await broker.close();

    const channels = capture.findings.map((f) => f.channel);
    for (const channel of [
      'stdout',
      'stderr',
      'console.log',
      'console.warn',
      'logger.warn fields',
      'logger.info',
      'caught cause[1] util.inspect',
      'caught util.inspect',
      'child stdout',
    ])
      expect(channels, channel).toContain(channel);
    expect(capture.counts.statusEvents).toBeGreaterThan(0);
    expect(capture.findings.every((f) => !f.context.includes(v))).toBe(true);
    let report = '';
    try {
      capture.assertClean();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toMatch(/the sentinel secret appeared \d+ time\(s\)/);
    expect(report).not.toContain(v);
    expect(capture.summary()).toMatch(/MATCHES/);
  });

  it('passes clean output, and rejection() records the error of a promise that must reject', async () => {
    const capture = new LeakCapture(new Sentinel(), 'clean');
    const error = await capture.rejection(Promise.reject(new Error('nothing secret')));
    expect(error).toBeInstanceOf(Error);
    await expect(capture.rejection(Promise.resolve(1))).rejects.toThrow(/expected a rejection/);
    capture.logger.error({ code: 'X' }, 'fine');
    expect(capture.counts).toMatchObject({ errors: 1, logs: 1 });
    expect(() => capture.assertClean()).not.toThrow();
    expect(capture.summary()).toMatch(/no match$/);
  });
});
