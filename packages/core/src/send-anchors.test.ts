// The send path's classes outlive the sends: code optimized for them stays optimized through full
// GCs that find none alive (shape-anchor.ts). Without an anchor, V8 collected the class's map at
// such a GC and threw the code away ("weak objects"): in the rabbitmq rounds profile, 25–27 of the
// send path's functions compiled again in the publish phase after each forced GC
// (docs/bench-profiles.md §28).
import { expect, it } from 'vitest';
import { sameMap, staysOptimized } from '../test-kit/v8-natives.js';
import { memoryCapabilities } from './memory/driver.js';
import type { Outgoing } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';
import { Confirms } from './send-attempts.js';
import { SendGroup } from './send-queue.js';

const body = new Uint8Array(8);
const outgoing = (): Outgoing => prepareOutgoing(body, memoryCapabilities, 'memory');
const ignore = (): void => {};

it('keeps code made for outgoing messages optimized with none alive', () => {
  // The anchor holds the map real messages have (a text body's too).
  expect(sameMap(outgoing(), prepareOutgoing('text', memoryCapabilities, 'memory'))).toBe(true);
  const make = new Function('prepare', 'b', 'c', 'return () => prepare(b, c, "memory").publishedAt;')(
    prepareOutgoing,
    body,
    memoryCapabilities,
  ) as () => number;
  staysOptimized(make);
});

it('keeps code made for sends optimized with none alive', () => {
  expect(
    sameMap(
      new SendGroup(outgoing(), ignore, undefined),
      new SendGroup([outgoing(), outgoing()], ignore, undefined),
    ),
  ).toBe(true);
  const make = new Function('SendGroup', 'o', 'f', 'return () => new SendGroup(o, f, undefined).count;')(
    SendGroup,
    [],
    ignore,
  ) as () => number;
  staysOptimized(make);
});

it("keeps code made for a batch attempt's confirms optimized with none alive", () => {
  const segments = [new SendGroup(outgoing(), ignore, undefined)];
  const ctx = {} as ConstructorParameters<typeof Confirms>[0];
  expect(
    sameMap(new Confirms(ctx, segments, undefined), new Confirms(ctx, [...segments, ...segments], undefined)),
  ).toBe(true);
  const make = new Function('Confirms', 'c', 's', 'return () => new Confirms(c, s, undefined).early;')(
    Confirms,
    ctx,
    segments,
  ) as () => number;
  staysOptimized(make);
});
