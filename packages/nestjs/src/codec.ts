import type { Message, OutgoingMessage } from '@switchyard/core';

/** Set on a reply that carries a handler's error instead of its result. */
export const ERROR_HEADER = 'nest-error';

/**
 * What a handler receives: JSON bodies parsed, anything else as text (a plain client's message
 * reads as it was sent).
 */
export function decodeData(message: Message): unknown {
  const type = message.contentType ?? '';
  if (type.includes('json')) return message.json();
  return message.text();
}

/** A handler's result as a reply: JSON, so the client reads back the value it was given. */
export function encodeResponse(response: unknown): OutgoingMessage {
  return { body: JSON.stringify(response ?? null), contentType: 'application/json' };
}

/** A handler's error as a reply: its message (and Nest's RpcException payload), never its stack. */
export function encodeError(error: unknown): OutgoingMessage {
  const payload =
    typeof (error as { getError?: unknown })?.getError === 'function'
      ? (error as { getError(): unknown }).getError()
      : error instanceof Error
        ? { message: error.message, name: error.name }
        : error;
  return {
    body: JSON.stringify(payload ?? null),
    contentType: 'application/json',
    headers: { [ERROR_HEADER]: 'true' },
  };
}

/** A reply as the value (or error) Nest's ClientProxy hands to the caller. */
export function decodeReply(reply: Message): { readonly err?: unknown; readonly response?: unknown } {
  const value = decodeData(reply);
  return reply.headers[ERROR_HEADER] === 'true' ? { err: value } : { response: value };
}

/** What emit() and send() put on the wire: the data as the body (JSON unless bytes or text). */
export function encodeData(data: unknown): OutgoingMessage {
  if (typeof data === 'string' || data instanceof Uint8Array) return { body: data };
  return { body: JSON.stringify(data ?? null), contentType: 'application/json' };
}
