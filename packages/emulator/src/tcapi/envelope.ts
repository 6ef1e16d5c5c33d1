// The Tencent Cloud API 3.0 reply shapes. Every API-level outcome, success or failure, is HTTP 200 with a
// JSON `Response` object: the SDK only surfaces `Error.Code` when the status is 200 (a non-200 loses the
// code and message), so errors must never be mapped to HTTP statuses here.

import { randomUUID } from 'node:crypto';
import type { HttpReply } from '../contracts.js';

/** An API-level failure; `code` is the exact Tencent code (e.g. `ResourceNotFound.Topic`). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function newRequestId(): string {
  return randomUUID();
}

function reply(response: Record<string, unknown>, traceId: string | undefined): HttpReply {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // The SDK copies this response header into `err.traceId`; echo the caller's trace id back.
  if (traceId) headers['x-tc-traceid'] = traceId;
  return { status: 200, headers, body: JSON.stringify({ Response: response }) };
}

export function successReply(
  fields: Record<string, unknown>,
  requestId: string,
  traceId?: string,
): HttpReply {
  return reply({ ...fields, RequestId: requestId }, traceId);
}

export function errorReply(code: string, message: string, requestId: string, traceId?: string): HttpReply {
  return reply({ Error: { Code: code, Message: message }, RequestId: requestId }, traceId);
}
