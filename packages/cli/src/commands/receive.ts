// `switchyard receive`: print messages; ack them (default) or give them back (--no-ack).

import type { Message } from '@switchyard/core';
import { ExitCode } from '../exit-codes.js';
import { type Io, line, messageToJson, messageToText } from '../output.js';
import { openEndpoint, type TargetContext } from '../target.js';

export interface ReceiveOptions {
  url: string;
  source?: string;
  group?: string;
  max: number;
  wait: number;
  ack: boolean;
  json?: boolean;
}

export async function receiveCommand(
  options: ReceiveOptions,
  io: Io,
  context: TargetContext,
  interrupt: AbortSignal,
): Promise<number> {
  const endpoint = await openEndpoint(options.url, '--url', context);
  let count = 0;
  try {
    const unlimited = options.max === 0;
    // Take no more than asked for: extra prefetched messages would be given back (and counted
    // as a delivery) on close.
    const prefetch = unlimited ? 64 : Math.min(options.max, 64);
    const consumer = await endpoint.consumer(
      { source: options.source, group: options.group },
      { prefetch, pollWaitMs: Math.min(Math.max(options.wait, 0), 30_000) },
    );
    const stopped = aborted(interrupt);
    while (!interrupt.aborted && (unlimited || count < options.max)) {
      const want = unlimited ? 64 : Math.min(options.max - count, 64);
      const batch = await Promise.race([consumer.receive({ max: want, waitMs: options.wait }), stopped]);
      if (batch.length === 0) break;
      for (const message of batch) {
        count++;
        print(message, count, options, io);
        if (options.ack) await message.ack();
        else await message.nack();
      }
    }
    await consumer.close();
  } finally {
    await endpoint.close();
  }
  if (count === 0 && !options.json) {
    line(io.stderr, `no message within ${options.wait} ms`);
  }
  return interrupt.aborted ? ExitCode.INTERRUPTED : ExitCode.OK;
}

function print(message: Message, index: number, options: ReceiveOptions, io: Io): void {
  if (options.json) line(io.stdout, JSON.stringify(messageToJson(message)));
  else line(io.stdout, messageToText(message, index));
}

function aborted(signal: AbortSignal): Promise<Message[]> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve([]);
    signal.addEventListener('abort', () => resolve([]), { once: true });
  });
}
