// CMQ (emulator in a child process, so the process CPU measured is the client's): Switchyard vs an
// expert raw client with the same batching and concurrency, at 256 B, 64 KiB and 1 MiB, paired per
// round; the plain one-request-per-message client is kept at 256 B as the one-at-a-time row.
//   expert raw: undici keep-alive pool of 16, BatchSendMessage of 16 with 16 requests in flight;
//               at-least-once receive: 4 long-polling BatchReceiveMessage loops of 16, each with its
//               next receive in flight while it hands every body of a batch to a handler, then the
//               batch's BatchDeleteMessage left in flight (cmq-raw.ts receiveHandleDelete)
//   expert deleting before handling (second comparison, the expert of earlier runs): the same
//               loops, each batch's delete sent as its reply is parsed, no body read (at-most-once)
//   Switchyard: 1,000 concurrent send() calls (maxInFlight 16, maxConnections 16); run(), whose
//               driver keeps 4 BatchReceiveMessage of 16 in flight on a backlog and sends an ack
//               batch's BatchDeleteMessage requests together
// Then 1, 2 and 4 consumer processes on one queue.
// Run alone: npx tsx --conditions=switchyard-source bench/cmq.ts

import { pathToFileURL } from 'node:url';
import { connect } from '@switchyard/core';
import { expertCmq, plainCmq } from './cmq-raw.js';
import { startEmulatorProcess } from './emulator-process.js';
import {
  alternate,
  compare,
  concurrently,
  drainWithRun,
  measure,
  printRows,
  Rounds,
  sizeLabel,
  textBody,
} from './measure.js';
import { scalingRows } from './scaling.js';
import type { BenchRow } from './types.js';

const SIZES = [
  // 12,000, not 4,000: a 4,000-message send phase lasted ≈ 190 ms, and its rounds spread 0.49–1.4
  // on a quiet machine; the emulator (one event loop in a child process, more CPU per message
  // than either client) runs exactly one scavenge in every send phase of either side (11–131 ms),
  // and taking it out left the spread as it was: a phase that short is decided by scheduling on
  // 2 cores (docs/bench-profiles.md 26.3).
  { bytes: 256, count: 12_000 },
  { bytes: 64 * 1024, count: 400 },
  { bytes: 1024 * 1024, count: 24 },
] as const;
const NAIVE_COUNT = 300;
const IN_FLIGHT = 16;
const RECEIVERS = 4;
const SENDERS = 1_000;
// Five, not three: on 2 cores one round in three often lands on a GC or a scheduling stall of one
// side, and the median of three then moved by up to 0.2× between whole runs of the same code.
// Eight with four sides: two whole balanced cycles (round-order.ts), so each side follows each
// other side equally often; five ran one side after the same neighbour twice as often.
const ROUNDS = 8;
const SCALE_COUNT = 3_000;
/**
 * Warm rounds at 256 B beyond alternate()'s two (see the warm-up below): one of 12,000 messages
 * per side makes 36,000 sends before the measured rounds, more than the 24,000 that the four of
 * 4,000 made.
 */
const EXTRA_WARM = 1;

// Paired in-process runs (bench/profile-cmq.ts, 2026-12-06, load average 6-14, so ranges are wide).
const SEND_PROFILE =
  'both sides send the same requests (counted on the wire through a proxy, profile-cmq.ts WIRE=1: same actions, ' +
  'headers and bytes; 16 bodies per BatchSendMessage, 15.5 on average for Switchyard, whose first 16 send() calls ' +
  "of a burst go alone). The driver's request path costs less than the expert's: it signs and form-encodes " +
  'into one buffer and reads replies through pool.dispatch. Until 2026-12-07 this row read 0.69× at 2.15× CPU: ' +
  "with 2 warm-up rounds, 250 requests a phase had not brought the driver's per-request functions (the HTTP " +
  "client's #once and post, sendTexts, sendAttempts) to TurboFan, so 23-33 compiles ran in Switchyard's 5 measured " +
  "send phases against the expert's 2-11 (its code also runs in the other sides' phases), with a median 4.3 µs per " +
  'message of CPU on compiler and GC threads against 1.2; and the one-at-a-time side, not warmed, first ran in measured ' +
  "round 1, where node:http deoptimized 30 of Node's stream and socket functions both undici sides share. Warmed " +
  "6 rounds, every side, Switchyard's send phases run 4-9 small compiles (the expert's 0-4). What remains at 256 B " +
  "is core's per-send() path: 1,000 sends waiting on 16 requests keep their promise, SendGroup and Outgoing " +
  'alive across the round trip (≈ 400 B a message more than the expert allocates) ' +
  '(docs/bench-profiles.md, CMQ, 21.2)';
const RECEIVE_PROFILE =
  'both sides keep at most 4 BatchReceiveMessage of 16 in flight on a backlog and delete 16 handles per ' +
  'BatchDeleteMessage after the handlers ran (counted on the wire through a proxy, profile-cmq.ts WIRE=1: the same ' +
  'requests and sizes, 4 receives in flight at peak on both sides); the expert hands every body to its handler and ' +
  'deletes after it, its next receive in flight meanwhile. At 256 B the JS heap allocated per message is within 6% ' +
  "(Switchyard 3,735 B, expert 3,520 B, the driver alone 3,550-3,640 B); the rest is core's per-delivery path " +
  "(Message, lease, handler promise, ack batch). At 64 KiB core's lazy body (a getter closure per delivery of " +
  '4,096+ units) kept each text alive through scavenges after its delivery was dropped, so bodies were promoted: ' +
  '68 vs 13-28 KB per message (--trace-gc-nvp over the phases), the driver alone the same; with one shared getter ' +
  "(a core patch) 16-21 KB, and V8's other threads spend the expert's CPU. The one more copy of each body that " +
  'stayed (scavenges copied 50-56 vs 32-38 KB per message) was the driver waiting for all 4 receives of a round: ' +
  'it now hands each batch on as it comes back and sends a receive in its place, as the expert, and copies ' +
  '35-40 KB per message; page faults per message are the same on both sides (16-21) ' +
  '(docs/bench-profiles.md, CMQ, 20.4)';

/** The expert's handler: it reads each body (its length), as the handler of a real consumer would. */
let bodyChars = 0;
const handle = (body: string) => {
  bodyChars += body.length;
};

export async function benchCmq(): Promise<BenchRow[]> {
  const emulator = await startEmulatorProcess({ cmq: { recreateGuardSeconds: 0 } });
  const { secretId, secretKey } = emulator.credentials[0]!;
  const endpoint = emulator.endpoints.cmq;
  const host = new URL(endpoint).host;
  const target = `cmq+http://${secretId}:${encodeURIComponent(secretKey)}@${host}?region=ap-guangzhou&maxConnections=${IN_FLIGHT}&maxMessageBytes=1048576`;
  const broker = await connect(target);
  const expert = expertCmq(endpoint, secretId, secretKey, IN_FLIGHT);
  const plain = plainCmq(endpoint, secretId, secretKey);
  let queues = 0;
  const queue = () => expert.createQueue(`bench-${++queues}`);
  // Each side deletes its queue once its phases are done (unmeasured), so no round carries the
  // emulator's garbage from earlier ones. Until c79a202 the emulator kept every received message of
  // a queue until that queue was next read after its visibility timeout: at 256 B its live heap grew
  // ≈ 22 MB a round, and each mark-compact, marking all of it, fell whole into one phase of one side
  // (206–558 ms of its GC threads in a phase against a median of 29; docs/bench-profiles.md §27).
  const drop = (queueName: string) => expert.deleteQueue(queueName);
  const rows: BenchRow[] = [];
  try {
    for (const { bytes, count } of SIZES) {
      const body = textBody(bytes);
      const bodies = Array.from({ length: count }, () => body);
      const send = new Rounds();
      const receive = new Rounds();
      const sides: Record<string, () => Promise<void>> = {
        expert: async () => {
          const q = await queue();
          send.add('expert', await measure(count, () => expert.send(q, bodies)));
          bodyChars = 0;
          receive.add(
            'expert',
            await measure(count, () => expert.receiveHandleDelete(q, count, RECEIVERS, handle)),
          );
          if (bodyChars < count * bytes) throw new Error(`the expert's handler read ${bodyChars} characters`);
          await drop(q);
        },
        // The expert loop of earlier runs: it deletes each batch before anything handles it and
        // never reads a body (at-most-once); kept as a second, labelled comparison.
        beforeHandling: async () => {
          const q = await queue();
          await expert.send(q, bodies);
          receive.add(
            'beforeHandling',
            await measure(count, () => expert.receiveDelete(q, count, RECEIVERS)),
          );
          await drop(q);
        },
        sy: async () => {
          const q = await queue();
          const producer = await broker.producer(q, { maxInFlight: IN_FLIGHT });
          send.add('sy', await measure(count, () => concurrently(count, SENDERS, () => producer.send(body))));
          await producer.close();
          receive.add(
            'sy',
            await drainWithRun(await broker.consumer(q, { prefetch: 512, concurrency: 64 }), count),
          );
          await drop(q);
        },
        ...(bytes === 256
          ? {
              naive: async () => {
                const q = await queue();
                send.add(
                  'naive',
                  await measure(NAIVE_COUNT, () => plain.send(q, bodies.slice(0, NAIVE_COUNT))),
                );
                receive.add('naive', await measure(NAIVE_COUNT, () => plain.receiveDelete(q, NAIVE_COUNT)));
                await drop(q);
              },
            }
          : {}),
      };
      // Warm-up: every side, the one-at-a-time one included, and at 256 B EXTRA_WARM more rounds
      // before alternate()'s two (docs/bench-profiles.md 21.2). A send phase of 4,000 × 256 B (the
      // count until §26.3) was 250 requests, so the driver's per-request functions (the HTTP client's #once and post,
      // sendTexts, sendAttempts) were still reaching TurboFan, or coming back to it after a deopt,
      // in the measured rounds: 2-11 TurboFan compiles per Switchyard send phase (compile jobs of
      // 2-390 ms in all, timed at load 6-10), 0-4 per expert send phase, whose code also runs in
      // the other sides' phases. And the one-at-a-time side, left out of the warm-up, first ran in
      // measured round 1, where node:http deoptimized 30 of Node's stream and socket functions
      // that both undici sides then re-optimized in their measured phases.
      for (let w = 0; w < (bytes === 256 ? EXTRA_WARM : 0); w++)
        for (const run of Object.values(sides)) await run();
      await alternate(ROUNDS, sides, [send, receive]);
      const size = sizeLabel(bytes);
      const warm = 2 + (bytes === 256 ? EXTRA_WARM : 0);
      const note = `${count} × ${size} (one-at-a-time: ${NAIVE_COUNT}), median of ${ROUNDS} after ${warm} warm-up rounds of every side`;
      rows.push(
        ...compare({
          label: `cmq send ${size}`,
          rounds: send,
          expert: { key: 'expert', how: `BatchSendMessage of 16, ${IN_FLIGHT} in flight, undici pool` },
          naive: { key: 'naive', how: 'one SendMessage per message, awaited' },
          switchyard: { key: 'sy', how: `${SENDERS} concurrent send(), maxInFlight ${IN_FLIGHT}` },
          note,
          profile: SEND_PROFILE,
        }),
        ...compare({
          label: `cmq receive+delete ${size}`,
          rounds: receive,
          expert: {
            key: 'expert',
            how: `at-least-once: ${RECEIVERS} BatchReceiveMessage loops of 16, the next receive in flight while a batch is handled (each body to a handler), then its BatchDeleteMessage left in flight`,
          },
          naive: { key: 'naive', how: 'ReceiveMessage then DeleteMessage per message, awaited' },
          switchyard: { key: 'sy', how: 'run(), prefetch 512, concurrency 64' },
          note,
          profile: RECEIVE_PROFILE,
        }),
        // Against the expert that deletes before handling: its row and the ratio, named apart so
        // the key table keeps the at-least-once ratio (the Switchyard row is the one above).
        ...compare({
          label: `cmq receive+delete ${size}`,
          rounds: receive,
          expert: {
            key: 'beforeHandling',
            how: `${RECEIVERS} BatchReceiveMessage loops of 16, each batch's BatchDeleteMessage sent as its reply is parsed, no body read (at-most-once; the expert of runs before 2026-12-06 21:00)`,
          },
          switchyard: { key: 'sy', how: '' },
          note,
        }).flatMap((row) =>
          row.name.endsWith(': expert raw')
            ? [{ ...row, name: row.name.replace(': expert raw', ': at-most-once expert raw') }]
            : row.name.endsWith(': Switchyard / expert')
              ? [
                  {
                    ...row,
                    name: row.name.replace(': Switchyard / expert', ': Switchyard / at-most-once expert'),
                  },
                ]
              : [],
        ),
      );
    }
    const scaleQueue = await queue();
    rows.push(
      ...(await scalingRows({
        label: 'cmq scaling 256 B',
        target,
        destination: scaleQueue,
        options: { prefetch: 512, concurrency: 64 },
        count: SCALE_COUNT,
        note: 'Switchyard run() per process; one emulator process serves them all',
        fill: (n) =>
          expert.send(
            scaleQueue,
            Array.from({ length: n }, () => textBody(256)),
          ),
      })),
    );
  } finally {
    await broker.close();
    await expert.close();
    plain.close();
    await emulator.stop();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchCmq());
