// What the consumer hands its per-message path (the intake's accept, run()'s host) is the same
// functions and one hidden class for every consumer. An arrow per consumer there was inlined into
// the intake's take and the run loop's settle, and each new consumer's arrow threw that optimized
// code away ("wrong call target"), so a process opening a consumer per topic or per round compiled
// its receive path again (docs/bench-profiles.md §28, remoting).

import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { afterEach, expect, it, vi } from 'vitest';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import type { RunsHost } from './consumer-runs.js';
import type { IntakeOptions } from './intake.js';

// V8's own answer to "do these objects share a hidden class", enabled for this file's function only.
setFlagsFromString('--allow-natives-syntax');
const sameHiddenClass = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (
  a: object,
  b: object,
) => boolean;

// The real classes, recording what each consumer gives them.
const given = vi.hoisted(() => ({ intakes: [] as IntakeOptions[], hosts: [] as RunsHost[] }));
vi.mock('./intake.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./intake.js')>();
  class Intake extends real.Intake {
    constructor(options: IntakeOptions) {
      given.intakes.push(options);
      super(options);
    }
  }
  return { ...real, Intake };
});
vi.mock('./consumer-runs.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./consumer-runs.js')>();
  class ConsumerRuns extends real.ConsumerRuns {
    constructor(host: RunsHost) {
      given.hosts.push(host);
      super(host);
    }
  }
  return { ...real, ConsumerRuns };
});

const brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
});

it("gives every consumer's per-message path the same functions and one hidden class", async () => {
  const broker = await connect({ driver: 'memory', name: `shape-${randomUUID()}` });
  brokers.push(broker);
  for (let i = 0; i < 3; i++) {
    const consumer = await broker.consumer(`t${i}`, { group: `g${i}` });
    // Still each consumer's own: a message sent to one is handled by that one.
    await (await broker.producer(`t${i}`)).send(`m${i}`);
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe(`m${i}`);
    await m?.ack();
    await consumer.close();
  }
  const [a, ...others] = given.intakes;
  const [hostA, ...otherHosts] = given.hosts;
  expect(others).toHaveLength(2);
  expect(otherHosts).toHaveLength(2);
  for (const b of others) {
    expect(b.accept).toBe(a!.accept);
    expect(sameHiddenClass(b, a!)).toBe(true);
  }
  for (const h of otherHosts) {
    for (const name of ['ack', 'fail', 'giveBack', 'closed'] as const) expect(h[name]).toBe(hostA![name]);
    expect(sameHiddenClass(h, hostA!)).toBe(true);
  }
});
