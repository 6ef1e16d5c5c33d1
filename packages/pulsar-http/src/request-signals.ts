import { createRequire } from 'node:module';
import { anchorShape, isAborted, onAbortOnce } from '@switchyard/core/driver';

/**
 * A signal of its own for each SDK request, aborted by one listener per shared signal.
 *
 * Core hands every send of a deadline bucket the same AbortSignal. node-fetch adds an abort
 * listener per request to the signal it is given and removes it when the response ends, and Node's
 * EventTarget leaves a removed listener's links to its neighbours in place (Listener.remove() in
 * Node 20 unlinks it from the list but keeps its own `next`, `previous` and callback). With 32
 * requests in flight on one shared signal, a removed listener that had been promoted to the old
 * generation kept its then-neighbour alive through every scavenge — that listener's node-fetch
 * closure (the request, its JSON text and body Buffer) and its own stale `next` — so each promoted
 * listener pulled the next requests into the old generation after it, until a major GC. Pipelined
 * 64 KiB sends promoted 84–107 MB per 2,500 requests with the shared signal against 23–28 MB
 * with none or one per request (docs/bench-profiles.md §22.4). A signal per request has one
 * listener and no neighbours; the shared signal gets one listener for all its requests, and the
 * set that listener reads drops each request when it settles (a Set keeps no link to a deleted
 * entry).
 */
/**
 * The signal node-fetch is given for one request: what node-fetch 2 (the SDK's fetch) reads of a
 * signal — `aborted`, and one 'abort' listener added before the request and removed when it ends —
 * on objects of one class. Node 20's own AbortController cost ≈ 12 µs per request here (CPU
 * profile, pipelined 256 B): each AbortSignal is made as an EventTarget and then given
 * AbortSignal's prototype, a map of its own per object, so every site that touches signals goes
 * megamorphic. node-fetch accepts any signal whose prototype's constructor is named AbortSignal
 * (its isAbortSignal()), hence the name below.
 */
class RequestSignal {
  aborted = false;
  reason: unknown = undefined;
  #listener: (() => void) | undefined = undefined;

  addEventListener(type: string, listener: () => void): void {
    if (type === 'abort') this.#listener = listener;
  }

  removeEventListener(type: string, listener: () => void): void {
    if (type === 'abort' && this.#listener === listener) this.#listener = undefined;
  }

  /** Aborts once: `reason` kept, the listener (if any) called once and dropped. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}
Object.defineProperty(RequestSignal, 'name', { value: 'AbortSignal' });
// One kept for good: a class's hidden class dies at a full GC that finds no instance, and the code
// compiled against it is thrown away ("weak objects"); between bursts no request is in flight
// (core's shape-anchor.ts, docs/bench-profiles.md §28.1).
anchorShape(new RequestSignal());

/** One request's signal, as the SDK is given it (node-fetch reads it as an AbortSignal). */
export type RequestAbort = RequestSignal;

/**
 * Whether the SDK's fetch is node-fetch 2, which takes a RequestSignal: read once from the
 * node-fetch the installed SDK resolves. Any other fetch (a later SDK on undici or Node's own
 * fetch, which check for a real AbortSignal) gets core's shared signal as before, so an SDK
 * upgrade costs the promotion this file avoids, never a failed send.
 */
export const SDK_TAKES_REQUEST_SIGNALS: boolean = (() => {
  try {
    const sdk = createRequire(import.meta.url).resolve('tencentcloud-sdk-nodejs-common');
    const { version } = createRequire(sdk)('node-fetch/package.json') as { version?: unknown };
    return typeof version === 'string' && version.startsWith('2.');
  } catch {
    return false;
  }
})();

export class RequestSignals {
  /** Per shared signal, the signals of the requests in flight under it. */
  readonly #open = new WeakMap<AbortSignal, Set<RequestSignal>>();

  /** A signal for one request under `shared`: aborted with its reason when `shared` aborts. */
  open(shared: AbortSignal): RequestAbort {
    const own = new RequestSignal();
    // Read and listened to through core's shared sites: every AbortSignal has a map of its own, so
    // `shared.aborted` read here deoptimised Api.direct (which inlines this) with each new deadline
    // bucket's signal, and V8 recompiled it inside the measured phases (--trace-deopt, §28).
    if (isAborted(shared)) {
      own.abort(shared.reason);
      return own;
    }
    let open = this.#open.get(shared);
    if (open === undefined) {
      const requests = new Set<RequestSignal>();
      open = requests;
      this.#open.set(shared, requests);
      onAbortOnce(shared, () => {
        for (const request of requests) request.abort(shared.reason);
        requests.clear();
      });
    }
    open.add(own);
    return own;
  }

  /** The request under `shared` settled: its signal is no longer aborted with it. */
  close(shared: AbortSignal, own: RequestAbort): void {
    this.#open.get(shared)?.delete(own);
  }

  /** Requests in flight under `shared` (for tests). */
  inFlight(shared: AbortSignal): number {
    return this.#open.get(shared)?.size ?? 0;
  }
}
