// The seams between the emulator's parts. The HTTP plumbing (server, keep-alive, fault injection,
// the `/_emulator/*` admin routes) is shared; each wire protocol supplies a ProtocolHandler that
// turns one parsed request into one reply. Keeping handlers free of sockets lets the fuzz tests
// call them directly and lets every protocol get the same faults without re-implementing them.

import type { IncomingHttpHeaders } from 'node:http';

/** Every protocol the emulator speaks; faults are set per protocol and per action. */
export type ProtocolName = 'cmq' | 'api' | 'rocketmq';

/** A SecretId/SecretKey pair (CMQ, Tencent Cloud API) or accessKey/secretKey (RocketMQ). */
export interface Credential {
  readonly secretId: string;
  readonly secretKey: string;
  /**
   * Temporary credentials (temporary-credentials.ts): the session token every request must carry
   * (`X-TC-Token` / `Token`), and when the key stops working (epoch ms, the auth clock).
   */
  readonly token?: string;
  readonly expiresAt?: number;
}

/** Source of time for every engine, so tests can reason about visibility and retention. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** One request as a protocol handler sees it: the whole body read, nothing interpreted. */
export interface ParsedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v2/index.php` or `/`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Aborted when the client goes away; long polls must stop waiting then. */
  readonly signal: AbortSignal;
}

export interface HttpReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export interface ProtocolHandler {
  readonly protocol: ProtocolName;
  /** The action a request names (for per-action faults); must not throw on garbage input. */
  actionOf(request: ParsedRequest): string;
  /** Serve one request. Must never throw: every failure is a reply in the protocol's own error shape. */
  handle(request: ParsedRequest): Promise<HttpReply>;
  /** The reply a real server gives for a transient failure of this action (used by injected faults). */
  injectedError(request: ParsedRequest, action: string): HttpReply;
  /**
   * The reply for a body over the server's size cap (the body is not read). Optional: without it
   * the server answers 413 with a JSON error.
   */
  oversizedReply?(request: ParsedRequest): HttpReply;
}

/** What the fault injector decided for one request. */
export interface FaultDecision {
  /** Extra latency before the request is served (or before the fault happens). */
  readonly latencyMs: number;
  /**
   * none: serve normally; error: reply with injectedError; reset: destroy the socket before
   * serving; hang: never reply; lostReply: serve the request (its effects happen), then drop the
   * connection instead of replying — the client cannot tell it succeeded, so at-least-once
   * clients retry and create the duplicates chaos tests must count.
   */
  readonly kind: 'none' | 'error' | 'reset' | 'hang' | 'lostReply';
}

export interface FaultInjector {
  decide(protocol: ProtocolName, action: string): FaultDecision;
}

/** Engines expose their state for `/_emulator/state` and for `--state FILE` persistence. */
export interface Inspectable {
  inspect(): unknown;
}
