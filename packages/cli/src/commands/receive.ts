// `switchyard receive`: print messages; ack them (default) or give them back (--no-ack). Stops
// after --max messages or --wait ms without one; with --follow it goes on until interrupted.

import type { Message } from '@switchyard/core';
import { whenAborted } from '../abort.js';
import { ExitCode } from '../exit-codes.js';
import { requireFeature, warnIfMemory } from '../flavour.js';
import { type Io, line, messageToJson, messageToText, writeLine } from '../output.js';
import { openEndpoint, type TargetContext } from '../target.js';

export interface ReceiveOptions {
  url: string;
  source?: string;
  group?: string;
  /** Stop after this many; 0 = no limit. Unset: 1, or no limit with --follow. */
  max?: number;
  wait: number;
  ack: boolean;
  /** Keep receiving until interrupted: an empty poll does not end the command. */
  follow?: boolean;
  /** A new group starts at the earliest message the flavour keeps (capability `startFrom`). */
  fromBeginning?: boolean;
  json?: boolean;
}

const MAX_PREFETCH = 64;

export async function receiveCommand(
  options: ReceiveOptions,
  io: Io,
  context: TargetContext,
  interrupt: AbortSignal,
): Promise<number> {
  const endpoint = await openEndpoint(options.url, '--url', context);
  const max = options.max ?? (options.follow ? 0 : 1);
  let count = 0;
  let closedOutput = false;
  const stopped = whenAborted<Message[]>(interrupt, []);
  try {
    if (options.fromBeginning)
      await requireFeature(
        endpoint,
        'startFrom',
        '--from-beginning',
        'start a new group at the earliest message it keeps',
      );
    await warnIfMemory(endpoint, context.warn, 'it starts empty in every process');
    const unlimited = max === 0;
    // Take no more than asked for: extra prefetched messages would be given back (and counted
    // as a delivery) on close.
    const prefetch = unlimited ? MAX_PREFETCH : Math.min(max, MAX_PREFETCH);
    // With --follow an empty poll only means "nothing yet"; a zero wait would spin, so polls
    // then wait at least a second.
    const waitMs = options.follow ? Math.max(options.wait, 1_000) : options.wait;
    const consumer = await endpoint.consumer(
      { source: options.source, group: options.group },
      {
        prefetch,
        // The consumer's own long poll: a 0 ms poll on an empty source would spin.
        pollWaitMs: Math.min(Math.max(waitMs, 100), 30_000),
        ...(options.fromBeginning ? { startFrom: 'earliest' as const } : {}),
      },
    );
    // On stderr even with --json: a script (or a test) can wait for it to know the group exists.
    if (options.follow) line(io.stderr, `following ${options.source ?? endpoint.label}; Ctrl-C to stop`);
    while (!interrupt.aborted && (unlimited || count < max)) {
      const want = unlimited ? MAX_PREFETCH : Math.min(max - count, MAX_PREFETCH);
      const batch = await Promise.race([consumer.receive({ max: want, waitMs }), stopped.promise]);
      if (batch.length === 0) {
        if (options.follow) continue;
        break;
      }
      for (const message of batch) {
        if (closedOutput) {
          // Not printed: back to the broker uncounted by us (the rest of the batch too).
          await message.nack().catch(() => {});
          continue;
        }
        try {
          await print(message, count + 1, options, io);
        } catch {
          // stdout is gone (the reader of a pipe exited): this message was not shown, so it is
          // given back rather than acked, and the command ends.
          closedOutput = true;
          await message.nack().catch(() => {});
          continue;
        }
        count++;
        if (options.ack) await message.ack();
        else await message.nack();
      }
      if (closedOutput) break;
    }
    await consumer.close();
  } finally {
    stopped.dispose();
    await endpoint.close();
  }
  if (count === 0 && !options.json && !options.follow) {
    line(io.stderr, `no message within ${options.wait} ms`);
  }
  return interrupt.aborted ? ExitCode.INTERRUPTED : ExitCode.OK;
}

function print(message: Message, index: number, options: ReceiveOptions, io: Io): Promise<void> {
  return writeLine(
    io.stdout,
    options.json ? JSON.stringify(messageToJson(message)) : messageToText(message, index),
  );
}
