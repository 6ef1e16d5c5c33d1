// A message's hidden class outlives the messages: code optimized for messages stays optimized
// through full GCs that find none alive (shape-anchor.ts). Without the anchor, V8 collected the
// class's map at such a GC and threw the code away ("weak objects"), and a consumer's whole
// per-message path compiled again after every idle mark-compact.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';

// V8's own answers, enabled for this file's functions only.
setFlagsFromString('--allow-natives-syntax');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const optimize = new Function(
  'f',
  '%PrepareFunctionForOptimization(f); f(); f(); %OptimizeFunctionOnNextCall(f); f();',
) as (f: () => unknown) => void;
const turbofanned = new Function('f', 'return %ActiveTierIsTurbofan(f)') as (f: () => unknown) => boolean;

const delivery = { id: 'm' } as unknown as Delivery;
const settler = {} as Settler;

it('keeps code made for messages optimized through full GCs with no message alive', () => {
  // Made here, not at module scope, so nothing else shares its feedback; it lets its message go.
  const make = new Function('Message', 'd', 's', 'return () => new Message(d, 1, s).deliveryAttempt;')(
    Message,
    delivery,
    settler,
  ) as () => number;
  optimize(make);
  expect(turbofanned(make)).toBe(true);
  // Maps that optimized code uses are kept a couple of GCs after their last use: more than that.
  for (let i = 0; i < 6; i++) gc();
  expect(turbofanned(make)).toBe(true);
  expect(make()).toBe(1);
});
