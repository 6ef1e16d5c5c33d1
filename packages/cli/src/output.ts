// Printing messages and results: human text on a terminal, one JSON object per line with --json.

import { isUtf8, type Message, redact } from '@switchyard/core';

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

export function line(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`);
}

/**
 * Writes a line and resolves once the stream took it; rejects when it cannot (a closed pipe:
 * `switchyard receive --follow | head`), so a message is acked only after it was printed.
 */
export function writeLine(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(`${text}\n`, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * What printing needs of a message: a received Message, or one a peek read (whose attempt is the
 * one its next delivery will be, undefined where the flavour cannot tell).
 */
export type PrintableMessage = Pick<
  Message,
  | 'id'
  | 'body'
  | 'contentType'
  | 'headers'
  | 'key'
  | 'tags'
  | 'routingKey'
  | 'orderingKey'
  | 'publishedAt'
  | 'text'
> & { readonly deliveryAttempt: number | undefined };

/** A received message as JSON: text bodies as `body`, others base64 in `bodyBase64`. */
export function messageToJson(message: PrintableMessage): Record<string, unknown> {
  const text = isUtf8(message.body);
  return {
    id: message.id,
    ...(text ? { body: message.text() } : { bodyBase64: Buffer.from(message.body).toString('base64') }),
    contentType: message.contentType,
    headers: message.headers,
    key: message.key,
    tags: message.tags,
    routingKey: message.routingKey,
    orderingKey: message.orderingKey,
    deliveryAttempt: message.deliveryAttempt,
    publishedAt: message.publishedAt?.toISOString(),
  };
}

/** A received message for people: one header line, then the body. */
export function messageToText(message: PrintableMessage, index: number): string {
  const parts = [`#${index} id=${message.id}`, `attempt=${message.deliveryAttempt ?? '?'}`];
  if (message.key !== undefined) parts.push(`key=${message.key}`);
  if (message.tags.length > 0) parts.push(`tags=${message.tags.join(',')}`);
  if (message.routingKey !== undefined) parts.push(`routingKey=${message.routingKey}`);
  if (message.orderingKey !== undefined) parts.push(`orderingKey=${message.orderingKey}`);
  if (message.contentType !== undefined) parts.push(`contentType=${message.contentType}`);
  if (Object.keys(message.headers).length > 0) parts.push(`headers=${JSON.stringify(message.headers)}`);
  const body = isUtf8(message.body)
    ? message.text()
    : `(binary, ${message.body.length} bytes, base64) ${Buffer.from(message.body).toString('base64')}`;
  return `${parts.join(' ')}\n${body}`;
}

/** Error text safe to print: SwitchyardError messages are redacted already; anything else is scrubbed here. */
export function errorText(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}
