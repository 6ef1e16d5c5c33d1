import { describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import { StatusEmitter, type StatusEvent, StatusStream } from './status.js';

let stores = 0;
const store = () => `status-stream-${process.pid}-${stores++}`;
const reconnecting = (attempt: number): StatusEvent => ({ type: 'reconnecting', driver: 'test', attempt });

describe('broker.status() as an async iterable', () => {
  it('replays the current status, then ends after the broker closes', async () => {
    const broker = await connect(`memory://${store()}`);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of broker.status()) {
        seen.push(event.type);
        if (event.type === 'connected') void broker.close();
      }
    })();
    await reading;
    expect(seen).toEqual(['connected', 'closed']);
    // A late iteration of a closed broker: the 'closed' event, then the end.
    const late: string[] = [];
    for await (const event of broker.status()) late.push(event.type);
    expect(late).toEqual(['closed']);
  });

  it('refuses a bad bufferSize and unknown option keys', async () => {
    const broker = await connect(`memory://${store()}`);
    expect(() => broker.status({ bufferSize: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => broker.status({ bufferSise: 8 } as never)).toThrow(/did you mean "bufferSize"/);
    await broker.close();
  });
});

describe('StatusStream', () => {
  it('removes its listener when the loop breaks, and when the stream ends on closed', async () => {
    const emitter = new StatusEmitter();
    emitter.emit({ type: 'connected', driver: 'test' });
    for await (const event of new StatusStream(emitter)) {
      expect(event.type).toBe('connected');
      expect(emitter.listenerCount).toBe(1);
      break;
    }
    expect(emitter.listenerCount).toBe(0);

    const stream = new StatusStream(emitter);
    expect(emitter.listenerCount).toBe(1);
    emitter.emit({ type: 'closed', driver: 'test' });
    expect(emitter.listenerCount).toBe(0);
    expect((await stream.next()).value).toMatchObject({ type: 'connected' });
    expect((await stream.next()).value).toMatchObject({ type: 'closed' });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('return() while a read waits ends that read and removes the listener', async () => {
    const emitter = new StatusEmitter();
    const stream = new StatusStream(emitter);
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(emitter.listenerCount).toBe(0);
    emitter.emit(reconnecting(1));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('buffers events between reads, in order; when full drops the oldest and counts it', async () => {
    const emitter = new StatusEmitter();
    const stream = new StatusStream(emitter, 3);
    for (let attempt = 1; attempt <= 5; attempt++) emitter.emit(reconnecting(attempt));
    expect(stream.dropped).toBe(2);
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { value } = await stream.next();
      attempts.push((value as { attempt: number }).attempt);
    }
    expect(attempts).toEqual([3, 4, 5]);
    // Reads waiting before events come get them in order.
    const first = stream.next();
    const second = stream.next();
    emitter.emit(reconnecting(6));
    emitter.emit({ type: 'connected', driver: 'test' });
    expect((await first).value).toMatchObject({ attempt: 6 });
    expect((await second).value).toMatchObject({ type: 'connected' });
    await stream.return();
  });
});
