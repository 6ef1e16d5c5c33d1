// `switchyard send`: one message from an argument, a file or stdin; or many with --lines / --ndjson.

import { readFile } from 'node:fs/promises';
import { isUtf8, type OutgoingMessage } from '@switchyard/core';
import { ExitCode, exitCodeFor, UsageError } from '../exit-codes.js';
import { warnIfMemory } from '../flavour.js';
import { errorText, type Io, line } from '../output.js';
import { openEndpoint, type TargetContext } from '../target.js';

export interface SendOptions {
  url: string;
  destination?: string;
  file?: string;
  header: string[];
  key?: string;
  tag: string[];
  routingKey?: string;
  orderingKey?: string;
  delay?: number;
  contentType?: string;
  id?: string;
  lines?: boolean;
  ndjson?: boolean;
  json?: boolean;
}

export async function sendCommand(
  body: string | undefined,
  options: SendOptions,
  io: Io,
  context: TargetContext,
): Promise<number> {
  const input = await readBody(body, options, io);
  const messages = toMessages(input, options);
  if (messages.length === 0) throw new UsageError('nothing to send: the input has no messages');
  const endpoint = await openEndpoint(options.url, '--url', context);
  try {
    await warnIfMemory(
      endpoint,
      context.warn,
      `the ${messages.length === 1 ? 'message vanishes' : 'messages vanish'} when this command exits, unread`,
    );
    const producer = await endpoint.producer({ destination: options.destination });
    const results = await Promise.allSettled(messages.map((m) => producer.send(m)));
    await producer.close();
    const ids: string[] = [];
    const errors: unknown[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') ids.push(r.value.messageId);
      else errors.push(r.reason);
    }
    const destination = options.destination ?? endpoint.label;
    if (options.json) {
      line(
        io.stdout,
        JSON.stringify({
          ok: errors.length === 0,
          destination,
          sent: ids.length,
          failed: errors.length,
          ...(ids.length <= 100 ? { ids } : {}),
          ...(errors.length > 0 ? { error: errorJson(errors[0]) } : {}),
        }),
      );
    } else {
      line(
        io.stdout,
        ids.length === 1 && errors.length === 0
          ? `sent 1 message to ${destination} (id ${ids[0]})`
          : `sent ${ids.length} message${ids.length === 1 ? '' : 's'} to ${destination}`,
      );
      if (errors.length > 0)
        line(io.stderr, `switchyard send: ${errors.length} failed: ${errorText(errors[0])}`);
    }
    if (errors.length === 0) return ExitCode.OK;
    return ids.length === 0 ? exitCodeFor(errors[0]) : ExitCode.PARTIAL;
  } finally {
    await endpoint.close();
  }
}

function errorJson(error: unknown): Record<string, unknown> {
  return { code: (error as { code?: string }).code ?? 'INTERNAL', message: errorText(error) };
}

async function readBody(
  body: string | undefined,
  options: SendOptions,
  io: Io,
): Promise<Uint8Array | string> {
  const sources = [body !== undefined && body !== '-', options.file !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give the body as an argument or with --file, not both');
  if (body !== undefined && body !== '-') return body;
  if (options.file !== undefined) {
    try {
      return await readFile(options.file);
    } catch (error) {
      throw new UsageError(`cannot read --file ${options.file}: ${(error as Error).message}`);
    }
  }
  if (body !== '-' && io.stdin.isTTY) {
    throw new UsageError('no message body: give it as an argument, with --file, or on stdin');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function toMessages(input: Uint8Array | string, options: SendOptions): OutgoingMessage[] {
  if (options.lines && options.ndjson) throw new UsageError('--lines and --ndjson cannot be combined');
  const common = commonFields(options);
  if (options.lines || options.ndjson) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
    if (options.lines) return lines.map((body) => ({ ...common, body }));
    return lines.map((l, i) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(l);
      } catch {
        throw new UsageError(`--ndjson line ${i + 1} is not JSON`);
      }
      if (parsed === null || typeof parsed !== 'object' || !('body' in parsed))
        throw new UsageError(`--ndjson line ${i + 1} must be an object with a "body"`);
      const m = parsed as OutgoingMessage;
      return { ...common, ...m, headers: { ...common.headers, ...m.headers } };
    });
  }
  const bytes = typeof input === 'string' ? undefined : input;
  if (bytes !== undefined && bytes.length === 0 && options.file === undefined) {
    throw new UsageError(
      'no message body: stdin was empty (give the body as an argument, with --file, or on stdin)',
    );
  }
  const body =
    bytes === undefined ? (input as string) : isUtf8(bytes) ? Buffer.from(bytes).toString('utf8') : bytes;
  return [{ ...common, body }];
}

function commonFields(
  options: SendOptions,
): Omit<OutgoingMessage, 'body'> & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const h of options.header) {
    const at = h.indexOf('=') >= 0 ? h.indexOf('=') : h.indexOf(':');
    if (at <= 0) throw new UsageError(`--header "${h}" must be name=value`);
    headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
  }
  return {
    headers,
    ...(options.key !== undefined ? { key: options.key } : {}),
    ...(options.tag.length > 0 ? { tags: options.tag } : {}),
    ...(options.routingKey !== undefined ? { routingKey: options.routingKey } : {}),
    ...(options.orderingKey !== undefined ? { orderingKey: options.orderingKey } : {}),
    ...(options.delay !== undefined ? { delayMs: options.delay } : {}),
    ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
    ...(options.id !== undefined ? { id: options.id } : {}),
  };
}
