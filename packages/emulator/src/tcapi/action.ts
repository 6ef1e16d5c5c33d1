// What an action is: a parameter schema and a function from validated params to response fields.

import type { Clock } from '../contracts.js';
import type { PulsarEngine } from '../pulsar/engine.js';
import { ApiError } from './envelope.js';
import type { Params, Schema } from './params.js';

export interface ActionContext {
  readonly pulsar: PulsarEngine;
  readonly clock: Clock;
  /** Aborted when the client disconnects; long polls stop then. */
  readonly signal: AbortSignal;
  /** Single-message ReceiveMessage wait, and the batch wait when Timeout is 0, ms. */
  readonly receiveWaitMs: number;
  /** Upper bound for a batch ReceiveMessage Timeout, ms. */
  readonly maxReceiveWaitMs: number;
}

export interface ActionDef<C = ActionContext> {
  readonly schema: Schema;
  run(params: Params, ctx: C): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export function invalidValue(name: string, why: string, code = 'InvalidParameterValue'): ApiError {
  return new ApiError(code, `The value of parameter \`${name}\` is not valid: ${why}.`);
}

/** Real TDMQ list actions cap Limit (20 or 50); larger values are clamped rather than rejected. */
export function page<T>(
  items: readonly T[],
  offset: number | undefined,
  limit: number | undefined,
  def: number,
  max: number,
) {
  const off = offset ?? 0;
  const lim = limit === undefined ? def : limit;
  if (off < 0) throw invalidValue('Offset', 'must not be negative');
  if (lim < 0) throw invalidValue('Limit', 'must not be negative');
  return items.slice(off, off + Math.min(lim, max));
}

/** TDMQ prints times as `yyyy-MM-dd HH:mm:ss` (the emulator uses UTC). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
