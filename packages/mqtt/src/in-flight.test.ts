import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { HELD, InFlight, type InFlightEntry, PUBACK_NOW } from './in-flight.js';

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
  /** A new message's entry (what `arrived` hands out as the delivery's handle). */
  const entry = (a: InFlightEntry | number): InFlightEntry => {
    if (typeof a === 'number') throw new Error(`expected an entry, got ${a}`);
    return a;
  };

  it('writes a PUBACK at once for a message of this connection', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    expect(a.id).toBe(1);
    expect(f.ack(a, true)).toBe(true);
    expect(f.size).toBe(0);
    expect(f.ack(a, true)).toBe(false); // acked before: no second PUBACK
  });

  it('holds an ack of an earlier connection until the broker resends the same message', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    f.reconnected(true);
    expect(f.ack(a, true)).toBe(false); // id 1 may name another message now
    expect(f.arrived(1, packet('a', true))).toBe(PUBACK_NOW);
    expect(f.size).toBe(0);
  });

  it('a resend of a message still being handled is not handed out again', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    f.reconnected(true);
    expect(f.arrived(1, packet('a', true))).toBe(HELD);
    expect(f.ack(a, true)).toBe(true);
  });

  it('an id that now names another message makes the old entry stale: its ack is dropped, the new one handed out', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    f.reconnected(true);
    const b = entry(f.arrived(1, packet('b', true)));
    expect(b).not.toBe(a);
    expect(f.ack(a, true)).toBe(false);
    expect(f.ack(b, true)).toBe(true);
  });

  it('a new session forgets every entry, and an ack while disconnected waits', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    expect(f.ack(a, false)).toBe(false);
    expect(f.held()).toEqual([]); // acked, waiting for the connection: not held any more
    expect(f.reconnected(false)).toBe(1);
    expect(f.size).toBe(0);
    expect(f.ack(a, true)).toBe(false);
  });

  it('held lists the entries not acked', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    const b = entry(f.arrived(2, packet('b')));
    f.ack(a, false);
    expect(f.held()).toEqual([b]);
    expect(f.unacked()).toBe(1);
  });

  it('an entry that leaves the table no longer holds its packet (the delivery does)', () => {
    const f = new InFlight();
    const a = packet('a');
    const b = packet('b');
    const c = packet('c');
    const acked = entry(f.arrived(1, a));
    const held = entry(f.arrived(2, b));
    const replaced = entry(f.arrived(3, c));
    expect(f.ack(acked, true)).toBe(true);
    expect(acked.packet).not.toBe(a);
    expect(acked.packet.payload.length).toBe(0);
    expect(held.packet).toBe(b); // still being handled: kept for a resend's check and the close
    entry(f.arrived(3, packet('another message under id 3')));
    expect(replaced.packet).not.toBe(c);
    f.reconnected(false);
    expect(held.packet).not.toBe(b);
  });

  it('a resend of an acked message leaves no packet behind either', () => {
    const f = new InFlight();
    const a = entry(f.arrived(1, packet('a')));
    f.reconnected(true);
    f.ack(a, true); // remembered: id 1 may name another message now
    const resent = packet('a', true);
    expect(f.arrived(1, resent)).toBe(PUBACK_NOW);
    expect(a.packet).not.toBe(resent);
    expect(a.packet.payload.length).toBe(0);
  });
});
