// `switchyard bridge` end to end: 10,000 messages from RabbitMQ to CMQ (envelope mode, served by
// an in-process emulator) with nothing lost, and a rate-limited bridge stopped by SIGINT that
// loses and duplicates nothing.

import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deleteRabbit, jsonLines, startCli } from './cli-support.js';

const RABBIT = 'amqp://guest:guest@127.0.0.1:5672';
const SECRET_ID = 'AKIDCLIBRIDGE';
const SECRET_KEY = 'cli-bridge-secret-2b7e';
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

let emulator: RunningEmulator;
let cmqUrl: string;

beforeAll(async () => {
  emulator = await startEmulator({ credentials: [{ secretId: SECRET_ID, secretKey: SECRET_KEY }] });
  const host = new URL(emulator.endpoints.cmq).host;
  cmqUrl = `cmq+http://${SECRET_ID}:${SECRET_KEY}@${host}?region=ap-guangzhou&bodyMode=envelope`;
});

afterAll(async () => {
  await emulator?.stop();
  await deleteRabbit({
    [`cli-bridge-src-${run}`]: ['switchyard-bridge'],
    [`cli-sigint-src-${run}`]: ['switchyard-bridge'],
    [`cli-sigint-dst-${run}`]: ['check'],
  });
});

/** Declares the consumer group's queue on RabbitMQ (bound to the exchange) so sends are routed. */
/** Resolves once `queue` holds at least `count` ready messages (polled; the deadline only guards a hang). */
async function untilQueueHas(queue: string, count: number): Promise<void> {
  const connection = await amqp.connect(RABBIT);
  try {
    const channel = await connection.createChannel();
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      if ((await channel.checkQueue(queue)).messageCount >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`queue ${queue} never held ${count} messages`);
  } finally {
    await connection.close();
  }
}

async function declareGroup(source: string, group: string) {
  const r = await cli(['receive', '--url', RABBIT, '-s', source, '-g', group, '--wait', '100']);
  expect(r.code, r.stderr).toBe(0);
}

describe('switchyard bridge', () => {
  it('bridges 10,000 messages RabbitMQ → CMQ keeping body, key and headers; none lost', async () => {
    const N = 10_000;
    const source = `cli-bridge-src-${run}`;
    const destination = `cli-bridge-dst-${run}`;
    emulator.engines.cmq.createQueue(destination);
    await declareGroup(source, 'switchyard-bridge');
    const input = Array.from({ length: N }, (_, i) =>
      JSON.stringify({ body: `m-${i}`, key: `k-${i}`, headers: { n: String(i) } }),
    ).join('\n');
    const sent = await cli(['send', '--url', RABBIT, '-d', source, '--ndjson', '--json'], { input });
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: N, failed: 0 });

    const started = Date.now();
    const bridge = await cli(
      [
        'bridge',
        '--from',
        RABBIT,
        '-s',
        source,
        '--to',
        cmqUrl,
        '-d',
        destination,
        '--idle',
        '1500',
        '--json',
      ],
      { timeoutMs: 90_000 },
    );
    const elapsed = Date.now() - started;
    expect(bridge.code, bridge.stderr).toBe(0);
    const summary = JSON.parse(bridge.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ ok: true, received: N, bridged: N, failed: 0, stoppedBy: 'idle' });
    console.log(
      `bridge RabbitMQ → CMQ: ${N} messages, ${summary.ratePerSecond}/s over ${summary.activeMs} ms active; process ${elapsed} ms (incl. start-up and the ${1500} ms idle stop)`,
    );

    const received = await cli(
      ['receive', '--url', cmqUrl, '-s', destination, '--max', String(N + 10), '--wait', '1500', '--json'],
      { timeoutMs: 90_000 },
    );
    expect(received.code, received.stderr).toBe(0);
    const messages = jsonLines(received.stdout);
    expect(messages).toHaveLength(N);
    const seen = new Set<number>();
    for (const m of messages) {
      const i = Number((m.headers as Record<string, string>).n);
      expect(m.body).toBe(`m-${i}`);
      expect(m.key).toBe(`k-${i}`);
      seen.add(i);
    }
    expect(seen.size).toBe(N);
    // Everything was acked at the source.
    const left = await cli([
      'receive',
      '--url',
      RABBIT,
      '-s',
      source,
      '-g',
      'switchyard-bridge',
      '--wait',
      '300',
      '--json',
    ]);
    expect(jsonLines(left.stdout)).toEqual([]);
  }, 120_000);

  it('a rate-limited bridge stopped by SIGINT exits 130 with nothing lost or duplicated', async () => {
    const N = 1_500;
    const source = `cli-sigint-src-${run}`;
    const destination = `cli-sigint-dst-${run}`;
    await declareGroup(source, 'switchyard-bridge');
    await declareGroup(destination, 'check');
    const input = Array.from({ length: N }, (_, i) => `s-${i}`).join('\n');
    expect((await cli(['send', '--url', RABBIT, '-d', source, '--lines'], { input })).code).toBe(0);

    const { child, done } = startCli([
      'bridge',
      '--from',
      RABBIT,
      '-s',
      source,
      '--to',
      RABBIT,
      '-d',
      destination,
      '--rate',
      '400',
      '--batch',
      '50',
      '--json',
    ]);
    // Interrupt once the bridge is under way: some messages have reached the destination queue,
    // and at 400 msg/s the rest needs seconds more.
    await untilQueueHas(`${destination}.check`, 50);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    const summary = JSON.parse(result.stdout) as { bridged: number; failed: number; stoppedBy: string };
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.failed).toBe(0);
    expect(summary.bridged).toBeGreaterThan(0);
    expect(summary.bridged).toBeLessThan(N); // the rate limit kept it from finishing

    const moved = jsonLines(
      (
        await cli([
          'receive',
          '--url',
          RABBIT,
          '-s',
          destination,
          '-g',
          'check',
          '--max',
          '0',
          '--wait',
          '500',
          '--json',
        ])
      ).stdout,
    );
    const rest = jsonLines(
      (
        await cli([
          'receive',
          '--url',
          RABBIT,
          '-s',
          source,
          '-g',
          'switchyard-bridge',
          '--max',
          '0',
          '--wait',
          '500',
          '--json',
        ])
      ).stdout,
    );
    expect(moved).toHaveLength(summary.bridged);
    const all = [...moved, ...rest].map((m) => m.body as string);
    // Nothing lost: every message is at the destination or still at the source.
    expect(new Set(all).size).toBe(N);
    // Nothing duplicated. (Only a RabbitMQ connection loss during the run — e.g. someone's chaos
    // test closing every connection on the shared server — can make acks undeliverable, and then
    // the source redelivers: at-least-once. The message says which messages and how.)
    const counts = new Map<string, number>();
    for (const body of all) counts.set(body, (counts.get(body) ?? 0) + 1);
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([body]) => body);
    const attempts = rest.filter((m) => duplicated.includes(m.body as string)).map((m) => m.deliveryAttempt);
    expect(
      duplicated,
      `bridged ${summary.bridged}, left ${rest.length}; delivery attempts of the duplicates left: ${attempts.slice(0, 5).join(', ')}`,
    ).toEqual([]);
    expect(all).toHaveLength(N);
  }, 60_000);
});
