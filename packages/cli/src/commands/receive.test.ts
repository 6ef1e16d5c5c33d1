// receiveCommand in-process over memory stores (they live as long as this process): --follow
// survives empty polls until interrupted, --from-beginning starts a new group at the first message.

import { PassThrough } from 'node:stream';
import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type { Io } from '../output.js';
import { receiveCommand } from './receive.js';

function memoryIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: Io = { stdout, stderr, stdin: new PassThrough() };
  /** Resolves once `predicate` holds for the text written so far (checked on every write). */
  const until = (stream: PassThrough, predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      if (predicate()) return resolve();
      const check = () => {
        if (!predicate()) return;
        stream.off('data', check);
        resolve();
      };
      stream.on('data', check);
    });
  return {
    io,
    out: () => out,
    err: () => err,
    untilOut: (p: (text: string) => boolean) => until(stdout, () => p(out)),
    untilErr: (p: (text: string) => boolean) => until(stderr, () => p(err)),
  };
}

const warnings: string[] = [];
const context = { warn: (text: string) => warnings.push(text) };

describe('receiveCommand', () => {
  it('--follow keeps receiving across empty polls until interrupted (exit 130)', async () => {
    const url = 'memory://receive-unit-follow';
    const interrupt = new AbortController();
    const { io, out, untilOut, untilErr } = memoryIo();
    const running = receiveCommand(
      { url, source: 'jobs', group: 'g', wait: 0, ack: true, follow: true, json: true },
      io,
      context,
      interrupt.signal,
    );
    // The group exists once the consumer is open; without --follow a 0 ms wait would end here.
    await untilErr((t) => t.includes('following jobs'));
    const broker = await connect(url);
    const producer = await broker.producer('jobs');
    await producer.send('one');
    await untilOut((t) => t.includes('"one"'));
    await producer.send(['two', 'three']);
    await untilOut((t) => t.includes('"three"'));
    interrupt.abort();
    expect(await running).toBe(130);
    const bodies = out()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { body: string }).body);
    expect(bodies).toEqual(['one', 'two', 'three']);
    // Acked: nothing left for the group.
    const consumer = await broker.consumer('jobs', { group: 'g' });
    expect(await consumer.receive({ max: 10, waitMs: 50 })).toEqual([]);
    await broker.close();
  });

  it('--follow with --max stops after that many', async () => {
    const url = 'memory://receive-unit-follow-max';
    const { io, out, untilErr } = memoryIo();
    const running = receiveCommand(
      { url, source: 'jobs', group: 'g', wait: 0, ack: true, follow: true, max: 2, json: true },
      io,
      context,
      new AbortController().signal,
    );
    await untilErr((t) => t.includes('following jobs'));
    const broker = await connect(url);
    await (await broker.producer('jobs')).send(['a', 'b', 'c']);
    expect(await running).toBe(0);
    expect(out().trim().split('\n')).toHaveLength(2);
    await broker.close();
  });

  it('--from-beginning gives a new group the messages sent before it existed; without it, none', async () => {
    const url = 'memory://receive-unit-beginning';
    const broker = await connect(url);
    await (await broker.consumer('jobs', { group: 'first' })).close();
    await (await broker.producer('jobs')).send(['old-1', 'old-2']);
    const late = memoryIo();
    expect(
      await receiveCommand(
        { url, source: 'jobs', group: 'late', wait: 200, ack: true, json: true },
        late.io,
        context,
        new AbortController().signal,
      ),
    ).toBe(0);
    expect(late.out()).toBe('');
    const replay = memoryIo();
    expect(
      await receiveCommand(
        {
          url,
          source: 'jobs',
          group: 'replay',
          wait: 2_000,
          max: 2,
          ack: true,
          fromBeginning: true,
          json: true,
        },
        replay.io,
        context,
        new AbortController().signal,
      ),
    ).toBe(0);
    expect(replay.out()).toContain('"old-1"');
    expect(replay.out()).toContain('"old-2"');
    await broker.close();
  });

  it('--from-beginning on a flavour without startFrom is UNSUPPORTED, "not on this flavour"', async () => {
    const { io } = memoryIo();
    const receiving = receiveCommand(
      {
        url: 'memory://receive-unit-minimal?profile=minimal',
        source: 'jobs',
        wait: 100,
        ack: true,
        fromBeginning: true,
      },
      io,
      context,
      new AbortController().signal,
    );
    await expect(receiving).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('--from-beginning is not on this flavour: memory cannot'),
    });
  });

  it('warns that a memory broker starts empty in every process', async () => {
    warnings.length = 0;
    const { io } = memoryIo();
    await receiveCommand(
      { url: 'memory://receive-unit-warn', source: 'jobs', wait: 10, ack: true },
      io,
      context,
      new AbortController().signal,
    );
    expect(warnings).toEqual([expect.stringContaining('in-process memory broker: it starts empty')]);
  });

  it('a closed stdout stops the command and gives back what was not printed (acks only what was)', async () => {
    const url = 'memory://receive-unit-closed';
    const broker = await connect(url);
    await (await broker.consumer('jobs', { group: 'g' })).close();
    await (await broker.producer('jobs')).send(['one', 'two', 'three']);
    const stdout = new PassThrough();
    let printed = '';
    // The reader takes one line and goes away, as `| head -n 1` does.
    stdout.once('data', (d: Buffer) => {
      printed += d.toString();
      stdout.destroy();
    });
    const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough() };
    const code = await receiveCommand(
      { url, source: 'jobs', group: 'g', wait: 1_000, max: 3, ack: true, json: true },
      io,
      context,
      new AbortController().signal,
    );
    expect(code).toBe(0);
    expect(printed).toContain('"one"');
    const consumer = await broker.consumer('jobs', { group: 'g' });
    const left: string[] = [];
    while (left.length < 2) {
      for (const m of await consumer.receive({ max: 10, waitMs: 2_000 })) {
        left.push(m.text());
        await m.ack();
      }
    }
    expect(left.sort()).toEqual(['three', 'two']);
    await broker.close();
  });
});
