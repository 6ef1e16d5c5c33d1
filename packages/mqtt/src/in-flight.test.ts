import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight.js';

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
    expect(a.kind).toBe('new');
    expect(f.ack(1, (a as { token: number }).token, true)).toBe(true);
    expect(f.size).toBe(0);
  });

  it('holds an ack of an earlier connection until the broker resends the same message', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a')) as { token: number };
    f.reconnected(true);
    expect(f.ack(1, a.token, true)).toBe(false); // id 1 may name another message now
    expect(f.arrived(1, packet('a', true))).toEqual({ kind: 'puback' });
    expect(f.size).toBe(0);
  });

  it('a resend of a message still being handled is not handed out again', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a')) as { token: number };
    f.reconnected(true);
    expect(f.arrived(1, packet('a', true))).toEqual({ kind: 'held' });
    expect(f.ack(1, a.token, true)).toBe(true);
  });

  it('an id that now names another message makes the old entry stale: its ack is dropped, the new one handed out', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a')) as { token: number };
    f.reconnected(true);
    const b = f.arrived(1, packet('b', true));
    expect(b.kind).toBe('new');
    expect(f.ack(1, a.token, true)).toBe(false);
    expect(f.ack(1, (b as { token: number }).token, true)).toBe(true);
  });

  it('a new session forgets every entry, and an ack while disconnected waits', () => {
    const f = new InFlight();
    const a = f.arrived(1, packet('a')) as { token: number };
    expect(f.ack(1, a.token, false)).toBe(false);
    expect(f.reconnected(false)).toBe(1);
    expect(f.size).toBe(0);
  });
});
