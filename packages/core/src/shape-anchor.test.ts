// A message's hidden class outlives the messages: code optimized for messages stays optimized
// through full GCs that find none alive (shape-anchor.ts). Without the anchor, V8 collected the
// class's map at such a GC and threw the code away ("weak objects"), and a consumer's whole
// per-message path compiled again after every idle mark-compact.
import { expect, it } from 'vitest';
import { staysOptimized } from '../test-kit/v8-natives.js';
import { Arrival } from './handed-out.js';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';

const delivery = { id: 'm' } as unknown as Delivery;
const settler = {} as Settler;

it('keeps code made for messages optimized through full GCs with no message alive', () => {
  // Made here, not at module scope, so nothing else shares its feedback; it lets its message go.
  const make = new Function('Message', 'd', 's', 'return () => new Message(d, 1, s).deliveryAttempt;')(
    Message,
    delivery,
    settler,
  ) as () => number;
  staysOptimized(make);
  expect(make()).toBe(1);
});

it("keeps code made for the intake's arrivals optimized through full GCs with none alive", () => {
  const make = new Function('Arrival', 'return () => new Arrival(1).held;')(Arrival) as () => number;
  staysOptimized(make);
  expect(make()).toBe(0);
});
