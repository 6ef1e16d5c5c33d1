// RocketMQ v2 status codes the emulator replies with (the `apache.rocketmq.v2.Code` names) and
// the error type service functions throw to turn a failed check into a Status reply.

import type { Status } from './proto.js';

export const CODES = {
  OK: 20000,
  MULTIPLE_RESULTS: 30000,
  BAD_REQUEST: 40000,
  ILLEGAL_TOPIC: 40002,
  ILLEGAL_CONSUMER_GROUP: 40003,
  ILLEGAL_MESSAGE_TAG: 40004,
  ILLEGAL_MESSAGE_KEY: 40005,
  ILLEGAL_MESSAGE_GROUP: 40006,
  ILLEGAL_MESSAGE_PROPERTY_KEY: 40007,
  INVALID_TRANSACTION_ID: 40008,
  ILLEGAL_MESSAGE_ID: 40009,
  ILLEGAL_FILTER_EXPRESSION: 40010,
  ILLEGAL_INVISIBLE_TIME: 40011,
  ILLEGAL_DELIVERY_TIME: 40012,
  INVALID_RECEIPT_HANDLE: 40013,
  MESSAGE_PROPERTY_CONFLICT_WITH_TYPE: 40014,
  UNRECOGNIZED_CLIENT_TYPE: 40015,
  CLIENT_ID_REQUIRED: 40017,
  UNAUTHORIZED: 40100,
  FORBIDDEN: 40300,
  NOT_FOUND: 40400,
  MESSAGE_NOT_FOUND: 40401,
  TOPIC_NOT_FOUND: 40402,
  CONSUMER_GROUP_NOT_FOUND: 40403,
  MESSAGE_BODY_TOO_LARGE: 41301,
  MESSAGE_BODY_EMPTY: 41302,
  MESSAGE_PROPERTIES_TOO_LARGE: 43101,
  INTERNAL_SERVER_ERROR: 50001,
  NOT_IMPLEMENTED: 50100,
  UNSUPPORTED: 50500,
} as const;

export type CodeName = keyof typeof CODES;

/** Every code the service can answer with; the fuzz test checks replies against this list. */
export const DOCUMENTED_CODES: readonly CodeName[] = Object.keys(CODES) as CodeName[];

export function status(code: CodeName, message = code === 'OK' ? 'OK' : code): Status {
  return { code, message };
}

export const OK: Status = Object.freeze(status('OK'));

/** A failed check; the service turns it into `{status: {code, message}}`. */
export class RocketMqError extends Error {
  constructor(
    readonly code: CodeName,
    message: string,
  ) {
    super(message);
    this.name = 'RocketMqError';
  }

  toStatus(): Status {
    return status(this.code, this.message);
  }
}

export function fail(code: CodeName, message: string): never {
  throw new RocketMqError(code, message);
}
