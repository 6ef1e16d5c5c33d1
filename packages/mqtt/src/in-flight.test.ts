import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { HELD, InFlight, PUBACK_NOW } from './in-flight.js';

const packet = (payload: string, dup = false): IPublishPacket =>
  ({
    cmd: 'publish',
    topic: 't',
    payload: Buffer.from(payload),
    qos: 1,
    dup,
    retain: false,
  }) as IPublishPacket;

describe('InFlight', () => {
  it('writes a PUBACK at once for a message of this connection', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a'));
    expect(a).toBeGreaterThan(0); // a token: hand it out
    expect(f.ack(1, a, true)).toBe(true);
    expect(f.size).toBe(0);
  });

  it('holds an ack of an earlier connection until the broker resends the same message', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a'));
    f.reconnected(true);
    expect(f.ack(1, a, true)).toBe(false); // id 1 may name another message now
    expect(f.arrived(1, packet('a', true))).toBe(PUBACK_NOW);
    expect(f.size).toBe(0);
  });

  it('a resend of a message still being handled is not handed out again', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a'));
    f.reconnected(true);
    expect(f.arrived(1, packet('a', true))).toBe(HELD);
    expect(f.ack(1, a, true)).toBe(true);
  });

  it('an id that now names another message makes the old entry stale: its ack is dropped, the new one handed out', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a'));
    f.reconnected(true);
    const b = f.arrived(1, packet('b', true));
    expect(b).toBeGreaterThan(0);
    expect(f.ack(1, a, true)).toBe(false);
    expect(f.ack(1, b, true)).toBe(true);
  });

  it('a new session forgets every entry, and an ack while disconnected waits', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a'));
    expect(f.ack(1, a, false)).toBe(false);
    expect(f.reconnected(false)).toBe(1);
    expect(f.size).toBe(0);
  });
});
