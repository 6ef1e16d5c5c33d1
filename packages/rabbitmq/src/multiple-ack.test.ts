import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { Handle } from './ack-window.js';
import { MultipleAck } from './multiple-ack.js';

/** The frames a channel was asked to write: [deliveryTag, multiple]. */
function recording(): { channel: Channel; frames: Array<[number, boolean]> } {
  const frames: Array<[number, boolean]> = [];
  const channel = {
    ack: (message: ConsumeMessage, allUpTo?: boolean) =>
      frames.push([message.fields.deliveryTag, allUpTo === true]),
  } as unknown as Channel;
  return { channel, frames };
}

const handle = (channel: Channel, deliveryTag: number): Handle => ({
  channel,
  message: { fields: { deliveryTag } } as ConsumeMessage,
  previous: 0,
  settled: true,
  acking: false,
});

describe('MultipleAck', () => {
  it('writes one multiple-ack once half the prefetch is waiting, never one per call', () => {
    const { channel, frames } = recording();
    const acks = new MultipleAck(200);
    // Batches of 27, as core hands them over (one per event-loop turn on a busy consumer).
    for (let tag = 27; tag <= 81; tag += 27) acks.add(handle(channel, tag), 27);
    expect(frames).toEqual([]);
    acks.add(handle(channel, 108), 27);
    expect(frames).toEqual([[108, true]]);
    acks.clear();
  });

  it('flush() writes what waits at once (close), and nothing twice', () => {
    const { channel, frames } = recording();
    const acks = new MultipleAck(200);
    acks.add(handle(channel, 5), 5);
    acks.flush();
    acks.flush();
    expect(frames).toEqual([[5, true]]);
  });

  it('a lost channel drops what waits: its tags mean nothing any more', () => {
    const { channel, frames } = recording();
    const acks = new MultipleAck(200);
    acks.add(handle(channel, 3), 3);
    acks.clear();
    acks.flush();
    expect(frames).toEqual([]);
  });

  it('prefetch 1 acks every delivery at once', () => {
    const { channel, frames } = recording();
    const acks = new MultipleAck(1);
    acks.add(handle(channel, 1), 1);
    acks.add(handle(channel, 2), 1);
    expect(frames).toEqual([
      [1, true],
      [2, true],
    ]);
  });
});
