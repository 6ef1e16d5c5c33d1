// The Tencent Cloud API 3.0 endpoint for TDMQ (version 2020-02-17): authenticate, route on the
// action, validate parameters against the action's schema, run it, and answer in the API's envelope.
// Every failure becomes an HTTP 200 error envelope; nothing here throws out of `handle`.

import type { CmqEngine } from '../cmq/engine.js';
import {
  type Clock,
  type Credential,
  type HttpReply,
  type Inspectable,
  type ParsedRequest,
  type ProtocolHandler,
  systemClock,
} from '../contracts.js';
import { PulsarEngine } from '../pulsar/engine.js';
import { PulsarError, ReceiveAborted } from '../pulsar/errors.js';
import { ReplayGuard } from '../server/replay-guard.js';
import type { ActionDef } from './action.js';
import { type CmqContext, CmqExtras, cmqActions, cmqErrorToApi } from './actions-cmq.js';
import { pulsarActions } from './actions-pulsar.js';
import { ApiError, errorReply, newRequestId, successReply } from './envelope.js';
import { validateParams } from './params.js';
import { actionOf, authenticate, header } from './request.js';
import { MAX_SKEW_SECONDS } from './sign-tc3.js';

export const API_VERSION = '2020-02-17';

export interface TcApiHandlerOptions {
  readonly credentials: readonly Credential[];
  readonly cmq: CmqEngine;
  /** Time for the engines (message TTL, retention, ack timeouts). */
  readonly clock: Clock;
  /**
   * Time for signature expiry checks. Defaults to the system clock because clients stamp requests
   * with real time; tests that move `clock` far ahead would otherwise see AuthFailure.SignatureExpire.
   */
  readonly authClock?: Clock;
  /** Allowed |X-TC-Timestamp (or v1 Timestamp) - now|, seconds, both ways; 0 = unchecked. Default 300. */
  readonly timestampWindowSeconds?: number;
  /**
   * Refuse a v1 (HmacSHA1/HmacSHA256) request whose SecretId + Signature was already used while
   * its Timestamp is inside the window (`AuthFailure.SignatureExpire`). TC3 requests carry no nonce
   * and are never refused as replays. Default true.
   */
  readonly replayProtection?: boolean;
  /** Most v1 requests remembered for replay detection. Default 100 000. */
  readonly replayCacheSize?: number;
  readonly pulsar?: {
    /** Clusters besides `pulsar-emulator` that exist from the start (each gets a `default` environment). */
    readonly clusterIds?: readonly string[];
    /** Redelivery delay for unacked messages on topics without AckTimeOut. Default 60 000. */
    readonly defaultAckTimeoutMs?: number;
    /** How long a single-message ReceiveMessage (or a batch with Timeout 0) waits. Default 1000. */
    readonly receiveWaitMs?: number;
    /** Cap on a batch ReceiveMessage Timeout. Default 30 000. */
    readonly maxReceiveWaitMs?: number;
  };
}

export interface TcApiHandler extends ProtocolHandler, Inspectable {
  readonly pulsar: PulsarEngine;
  /** Pulsar state plus API-only CMQ attributes, for `--state` persistence (CMQ messages are the CmqEngine's). */
  snapshot(): unknown;
  restore(data: unknown): void;
}

const ACTIONS: Record<string, ActionDef<CmqContext>> = { ...pulsarActions, ...cmqActions };

export function createTcApiHandler(options: TcApiHandlerOptions): TcApiHandler {
  const pulsar = new PulsarEngine({
    clock: options.clock,
    clusterIds: options.pulsar?.clusterIds ?? [],
    defaultAckTimeoutMs: options.pulsar?.defaultAckTimeoutMs ?? 60_000,
  });
  const authClock = options.authClock ?? systemClock;
  const windowSeconds = options.timestampWindowSeconds ?? MAX_SKEW_SECONDS;
  const replays =
    options.replayProtection === false
      ? undefined
      : new ReplayGuard({
          windowSeconds,
          ...(options.replayCacheSize !== undefined ? { maxEntries: options.replayCacheSize } : {}),
        });
  const receiveWaitMs = options.pulsar?.receiveWaitMs ?? 1000;
  const maxReceiveWaitMs = options.pulsar?.maxReceiveWaitMs ?? 30_000;
  const cmqExtras = new CmqExtras();

  async function serve(req: ParsedRequest): Promise<Record<string, unknown>> {
    const nowMs = authClock.now();
    const call = authenticate(req, options.credentials, Math.floor(nowMs / 1000), {
      nowMs,
      maxSkewSeconds: windowSeconds,
      replays,
    });
    if (call.version !== API_VERSION) {
      throw new ApiError(
        'NoSuchVersion',
        `The requested version \`${call.version}\` of service \`tdmq\` does not exist.`,
      );
    }
    const def = Object.hasOwn(ACTIONS, call.action) ? ACTIONS[call.action] : undefined;
    if (!def) {
      throw new ApiError(
        'InvalidAction',
        `The requested action \`${call.action}\` does not exist (or is not emulated).`,
      );
    }
    if (!call.region) {
      throw new ApiError('MissingParameter', 'The request is missing a required parameter `Region`.');
    }
    const params = validateParams(def.schema, call.params, call.fromForm);
    return await def.run(params, {
      pulsar,
      cmq: options.cmq,
      cmqExtras,
      clock: options.clock,
      signal: req.signal,
      receiveWaitMs,
      maxReceiveWaitMs,
    });
  }

  return {
    protocol: 'api',
    pulsar,

    actionOf,

    async handle(req: ParsedRequest): Promise<HttpReply> {
      const requestId = newRequestId();
      let traceId: string | undefined;
      try {
        traceId = header(req, 'x-tc-traceid');
        const fields = await serve(req);
        return successReply(fields, requestId, traceId);
      } catch (err) {
        if (err instanceof ApiError || err instanceof PulsarError) {
          return errorReply(err.code, err.message, requestId, traceId);
        }
        const mapped = cmqErrorToApi(err);
        if (mapped) return errorReply(mapped.code, mapped.message, requestId, traceId);
        if (err instanceof ReceiveAborted) {
          return errorReply(
            'FailedOperation.ReceiveError',
            'The client went away during the receive.',
            requestId,
            traceId,
          );
        }
        return errorReply('InternalError', 'An internal error occurred.', requestId, traceId);
      }
    },

    injectedError(req: ParsedRequest): HttpReply {
      // A transient server-side failure, as the real gateway reports one: 200 + InternalError envelope.
      let traceId: string | undefined;
      try {
        traceId = header(req, 'x-tc-traceid');
      } catch {
        traceId = undefined;
      }
      return errorReply(
        'InternalError',
        'An internal error has occurred. Retry your request, but if the problem persists, contact us.',
        newRequestId(),
        traceId,
      );
    },

    oversizedReply(req: ParsedRequest): HttpReply {
      let traceId: string | undefined;
      try {
        traceId = header(req, 'x-tc-traceid');
      } catch {
        traceId = undefined;
      }
      return errorReply(
        'RequestSizeLimitExceeded',
        'The request body is too large.',
        newRequestId(),
        traceId,
      );
    },

    inspect() {
      return { pulsar: pulsar.inspect() };
    },

    snapshot() {
      return { pulsar: pulsar.snapshot(), cmqApiAttributes: cmqExtras.snapshot() };
    },

    restore(data: unknown) {
      const d = data as { pulsar?: unknown; cmqApiAttributes?: unknown } | null;
      if (d === null || typeof d !== 'object' || d.pulsar === undefined) {
        throw new Error('invalid Tencent Cloud API state snapshot');
      }
      pulsar.restore(d.pulsar);
      cmqExtras.restore(d.cmqApiAttributes);
    },
  };
}
