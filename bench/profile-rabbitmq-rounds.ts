// The rabbitmq section's 256 B rounds alone, in the section's own shape (the same four contenders
// from bench/rabbitmq.ts on the real broker at 127.0.0.1:5672, WARM unmeasured rounds of 10,000 per
// side, then ROUNDS measured rounds in the balanced order). Prints each consume phase's socket reads
// and deliveries per read (chunks pushed by any socket, counted on net.Socket.prototype.push; in a
// consume phase nearly all are the consumer's deliveries) and each side's medians. With
// BENCH_MARKERS=1 and node's --trace-opt --trace-deopt --trace-gc, the `@@begin`/`@@end` lines let
// the TurboFan compiles, deopts and GCs be counted per measured phase.
//   BENCH_MARKERS=1 node --trace-opt --trace-deopt --trace-gc --import tsx bench/profile-rabbitmq-rounds.ts
// SIDES=expert,sy (default naive,expert,sy,driver), WARM (6), ROUNDS (8).
// GC=1 (with node --expose-gc): a full GC after every side of the measured rounds, marked
// `@@gc after <round> <side>`: what V8 throws away ("marking dependent code … weak objects") when a
// mark-compact finds no message, delivery or send of a side alive (docs/bench-profiles.md §28).
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { connect } from '@switchyard/core';
import { cpuOf, measure, Rounds, rateOf } from './measure.js';
import { type Contender, driverContender, rawContender, switchyardContender } from './rabbitmq.js';
import { roundOrder } from './round-order.js';

let reads = 0;
let readBytes = 0;
const push = net.Socket.prototype.push;
net.Socket.prototype.push = function (this: net.Socket, chunk: unknown, enc?: BufferEncoding) {
  if (chunk !== null && chunk !== undefined) {
    reads++;
    readBytes += (chunk as Buffer).length;
  }
  return push.call(this, chunk as Buffer, enc);
} as typeof push;

const url = 'amqp://guest:guest@127.0.0.1:5672';
const id = randomBytes(3).toString('hex');
const broker = await connect(url);
const sides = (process.env.SIDES ?? 'naive,expert,sy,driver').split(',');
const contenders: Record<string, Contender> = {};
for (const s of sides) {
  contenders[s] =
    s === 'naive'
      ? await rawContender(url, `bench-naive-${id}`, false)
      : s === 'expert'
        ? await rawContender(url, `bench-expert-${id}`, true)
        : s === 'sy'
          ? await switchyardContender(broker, url, `bench-sy-${id}`)
          : await driverContender(url, `bench-drv-${id}`);
}
const count = 10_000;
const warm = Number(process.env.WARM ?? 6);
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const body = randomBytes(256);
const consume = new Rounds();
const publish = new Rounds();
const perRead: Record<string, number[]> = {};
try {
  for (const key of sides)
    for (let w = 0; w < warm; w++) {
      await contenders[key]!.publish(body, count);
      await contenders[key]!.consume(count);
    }
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of roundOrder(sides, round)) {
      const side = contenders[key]!;
      await new Promise((r) => setTimeout(r, 200));
      publish.add(key, await measure(count, () => side.publish(body, count), `${key} publish 256`));
      await new Promise((r) => setTimeout(r, 200));
      const r0 = reads,
        b0 = readBytes;
      consume.add(key, await measure(count, () => side.consume(count), `${key} consume 256`));
      perRead[key] ??= [];
      perRead[key].push(count / (reads - r0));
      // GC=1: a full collection after every side, as a mark-compact falls somewhere between phases
      // in a long section; a count of what dies with a side's bursts, repeatable run to run.
      if (process.env.GC) {
        console.log(`@@gc after ${round} ${key}`);
        (globalThis as unknown as { gc(): void }).gc();
      }
      console.log(
        `@@reads ${key} consume: ${reads - r0} reads, ${((readBytes - b0) / (reads - r0)) | 0} B/read, ${(count / (reads - r0)).toFixed(1)} deliveries/read`,
      );
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  for (const key of sides) {
    console.log(
      `${key}: consume ${med(consume.get(key).map(rateOf)).toFixed(0)} msg/s ${med(consume.get(key).map(cpuOf)).toFixed(2)} µs/msg; publish ${med(publish.get(key).map(rateOf)).toFixed(0)} msg/s ${med(publish.get(key).map(cpuOf)).toFixed(2)} µs/msg; deliveries/read median ${med(perRead[key]!).toFixed(1)}`,
    );
  }
} finally {
  for (const s of Object.values(contenders)) await s.close();
  await broker.close();
}
