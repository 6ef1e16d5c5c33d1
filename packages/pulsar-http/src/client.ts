import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import {
  anchorShape,
  type Credential,
  type CredentialProvider,
  cloudApiCredential,
} from '@switchyard/core/driver';
import type { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import type { PulsarHttpConfig } from './config.js';
import { mapError } from './errors.js';
import { Limiter } from './limiter.js';
import { type RequestAbort, RequestSignals, SDK_TAKES_REQUEST_SIGNALS } from './request-signals.js';

// tencentcloud-sdk-nodejs-common is the full SDK's common/ directory on its own (abstract_client,
// signature v3, fetch with agent, timeout and AbortSignal, TencentCloudSDKHttpException): the same
// code path as the TDMQ product client, which only adds one typed method per action, without the
// other products' 50 MB. Loaded through require: the package is CommonJS.
const require = createRequire(import.meta.url);
const { CommonClient: SdkClient } = require('tencentcloud-sdk-nodejs-common') as {
  CommonClient: typeof CommonClient;
};

/** The TDMQ API host and version the product client (tdmq_client.js) uses. */
export const TDMQ_SERVICE = 'tdmq.tencentcloudapi.com';
export const TDMQ_VERSION = '2020-02-17';

export type TdmqClientType = CommonClient;

/**
 * The options of a request without a signal, one object for all: the SDK only reads them
 * (`signal`, `headers`, `multipart`, `skipSign`).
 */
const NO_OPTIONS: { signal?: AbortSignal } = Object.freeze({});

/**
 * The SDK client plus what every call needs: bounded concurrency, an explicit keep-alive agent and
 * error mapping. Secrets are revealed only here, when the SDK signs a request.
 */
export class Api {
  /** `sdk.request(action, params)`: TDMQ 2020-02-17, signed like the product client. */
  readonly sdk: CommonClient;
  readonly #limiter: Limiter;
  readonly #agent: http.Agent | undefined;
  readonly #credentials: CredentialProvider;
  /** A signal of each request's own under core's shared one (see RequestSignals). */
  readonly #signals = new RequestSignals();

  constructor(config: PulsarHttpConfig, credentials: CredentialProvider) {
    this.#credentials = credentials;
    // An explicit agent pools connections and also switches off the SDK's fallback to
    // $http_proxy (fetch.js uses the proxy only when no agent is given).
    const own = config.agent === undefined;
    const agent =
      (config.agent as http.Agent | undefined) ??
      (config.protocol === 'http'
        ? new http.Agent({ keepAlive: true, maxSockets: config.maxConcurrency + 8 })
        : new https.Agent({ keepAlive: true, maxSockets: config.maxConcurrency + 8 }));
    this.#agent = own ? agent : undefined;
    this.sdk = new SdkClient(TDMQ_SERVICE, TDMQ_VERSION, {
      // The SDK asks for the key when it signs each request, so a refreshed temporary key is used
      // from the next request on, and the client that broker.unwrap() hands out holds no plain
      // secret for util.inspect or a debugger to show.
      credential: cloudApiCredential(credentials) as never,
      region: config.region,
      profile: {
        httpProfile: {
          endpoint: config.endpoint,
          protocol: `${config.protocol}://`,
          reqMethod: 'POST',
          reqTimeout: Math.ceil(config.requestTimeoutMs / 1000),
          agent,
        },
      },
    });
    this.#limiter = new Limiter(config.maxConcurrency);
  }

  /** One API call, counted against maxConcurrency; rejects only with a SwitchyardError. */
  call<T = Record<string, unknown>>(action: string, request: object, signal?: AbortSignal): Promise<T> {
    // A free slot and a fresh fixed credential (a lone send's path): one reaction on the SDK's
    // promise frees the slot and maps a failure, where the limiter's own reaction and direct()'s
    // were two promises and two closures per request.
    const started = this.startAlone<T>(action, request, signal);
    if (started !== undefined)
      return started.then(this.#released as (value: T) => T, this.#failedCall(action));
    const limiter = this.#limiter;
    if (!limiter.tryAcquire()) return limiter.run(() => this.direct<T>(action, request, signal));
    const before = this.#credentials.rotates ? undefined : this.#credentials.fresh();
    if (before === undefined) {
      // A rotating or not yet fresh credential takes direct() (its one retry).
      let running: Promise<T>;
      try {
        running = this.direct<T>(action, request, signal);
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(this.#release, this.#release);
      return running;
    }
    // Here startAlone() declined only because another request is in flight under the same shared
    // signal (it found the slot and the credential as this does): this one gets a signal of its own.
    const shared = signal as AbortSignal;
    const own = this.#signals.open(shared);
    const settling = new OwnSignalCall(this.#signals, shared, own, action, this.#limiter);
    return (this.sdk.request(action, request, { signal: own as unknown as AbortSignal }) as Promise<T>).then(
      settling.answered.bind(settling) as (value: T) => T,
      settling.failed.bind(settling),
    );
  }

  /**
   * The SDK's own promise for a request that can go out as it is: a slot free with nobody waiting,
   * a fixed credential fresh in memory, and no neighbour in flight under the shared signal (alone,
   * a request's abort listener has none to keep, see RequestSignals) — the path of a lone send.
   * The slot is then taken: the caller calls `release()` exactly once when the promise settles,
   * and maps a failure with `mapError` (the promise rejects with what the SDK threw). Undefined
   * when any of that does not hold: nothing was taken, use `call()`. For a caller that turns the
   * answer into its own result (a producer's receipts) in the same reaction that frees the slot:
   * one promise and one microtask turn per request fewer than a reaction on `call()`'s promise.
   */
  startAlone<T = Record<string, unknown>>(
    action: string,
    request: object,
    signal: AbortSignal | undefined,
  ): Promise<T> | undefined {
    const credentials = this.#credentials;
    if (credentials.rotates) return undefined;
    const limiter = this.#limiter;
    // Another request in flight under the same shared signal needs a signal of its own.
    if (signal !== undefined && limiter.active !== 0 && SDK_TAKES_REQUEST_SIGNALS) return undefined;
    if (credentials.fresh() === undefined || !limiter.tryAcquire()) return undefined;
    try {
      return this.sdk.request(action, request, signal === undefined ? NO_OPTIONS : { signal }) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Gives back the slot of a request `startAlone` started. */
  release(): void {
    this.#limiter.release();
  }

  /** Frees the slot of a call that took one (tryAcquire). */
  readonly #release = (): void => this.#limiter.release();
  /** A call's value, its slot freed: one function for every call. */
  readonly #released = (value: unknown): unknown => {
    this.#limiter.release();
    return value;
  };
  /** Per action: frees a failed call's slot and rejects with its mapped error (no closure per call). */
  readonly #failures = new Map<string, (error: unknown) => never>();

  #failedCall(action: string): (error: unknown) => never {
    let failed = this.#failures.get(action);
    if (failed === undefined) {
      failed = (error: unknown) => {
        this.#limiter.release();
        throw mapError(error, action);
      };
      this.#failures.set(action, failed);
    }
    return failed;
  }

  /** Per action: rejects with a failure's mapped error (one function per action, not a closure per call). */
  readonly #mappers = new Map<string, (error: unknown) => never>();

  #mapsFailure(action: string): (error: unknown) => never {
    let mapped = this.#mappers.get(action);
    if (mapped === undefined) {
      mapped = (error: unknown) => {
        throw mapError(error, action);
      };
      this.#mappers.set(action, mapped);
    }
    return mapped;
  }

  /**
   * `count` calls of one action, each counted against maxConcurrency and started in order; the
   * batch waits for slots as one entry and builds each request only when its call starts.
   * Resolves to each call's response or SwitchyardError, by index; never rejects.
   */
  callEach<T = Record<string, unknown>>(
    count: number,
    action: string,
    request: (index: number) => object,
    signal?: AbortSignal,
  ): Promise<Array<T | Error>> {
    // The limiter writes each call's outcome into `results` from the one reaction it attaches per
    // call (a second `.then` per call here was a promise and two closures per message).
    const results = new Array<T | Error>(count);
    const calls = new EachCall(this, action, request, signal);
    return this.#limiter.settleEach(count, calls.start.bind(calls), results).then(() => results);
  }

  /** A call outside the concurrency bound (long polls must not starve sends and acks). */
  direct<T = Record<string, unknown>>(action: string, request: object, signal?: AbortSignal): Promise<T> {
    if (signal === undefined) return this.#direct<T>(action, request, NO_OPTIONS);
    if (this.#limiter.active <= 1 || !SDK_TAKES_REQUEST_SIGNALS)
      return this.#direct<T>(action, request, { signal });
    const own = this.#signals.open(signal);
    if (!this.#credentials.rotates && this.#credentials.fresh() !== undefined) {
      // A fixed credential in memory (no lookup, no retry): one reaction closes the request's signal
      // and maps a failure, where #direct's reaction and a second one here were two promises and
      // two microtask jobs per pipelined request.
      let sent: Promise<T>;
      try {
        sent = this.sdk.request(action, request, { signal: own as unknown as AbortSignal }) as Promise<T>;
      } catch (error) {
        this.#signals.close(signal, own);
        throw error;
      }
      const settling = new OwnSignalCall(this.#signals, signal, own, action, undefined);
      return sent.then(settling.answered.bind(settling) as (value: T) => T, settling.failed.bind(settling));
    }
    let running: Promise<T>;
    try {
      running = this.#direct<T>(action, request, { signal: own as unknown as AbortSignal });
    } catch (error) {
      this.#signals.close(signal, own);
      throw error;
    }
    const settled = () => this.#signals.close(signal, own);
    running.then(settled, settled);
    return running;
  }

  #direct<T>(action: string, request: object, options: { signal?: AbortSignal }): Promise<T> {
    // The credential in memory, without an await: an async frame and two awaits per request were
    // ≈ 0.9 KB (docs/bench-profiles.md, Pulsar over HTTP); the SDK's own ask (cloudApiCredential)
    // answers the same credential from memory too. Only when none is fresh (not loaded yet, or
    // expired) does the request wait for the provider, whose failure is its typed UNAUTHENTICATED
    // (the SDK would flatten it into a message).
    const before = this.#credentials.fresh();
    if (before === undefined) return this.#afterLookup<T>(action, request, options);
    const sent = this.sdk.request(action, request, options) as Promise<T>;
    // A fixed credential (inline keys, a URL's password) has no replacement to retry with.
    if (!this.#credentials.rotates) return sent.then(undefined, this.#mapsFailure(action));
    return sent.then(undefined, (error: unknown) =>
      this.#refused<T>(error, before, action, request, options),
    );
  }

  async #afterLookup<T>(action: string, request: object, options: { signal?: AbortSignal }): Promise<T> {
    const before = await this.#credentials.get();
    try {
      return (await this.sdk.request(action, request, options)) as T;
    } catch (error) {
      return this.#refused<T>(error, before, action, request, options);
    }
  }

  /**
   * After a request signed with `before` failed: refused as unauthenticated (a key rotated or
   * revoked before its expiry, a file not yet re-read), fetch once more and, if that gives another
   * key, send again — the API did nothing with a request it could not authenticate. Any other
   * failure, or no other key, rejects with the mapped error.
   */
  async #refused<T>(
    error: unknown,
    before: Credential,
    action: string,
    request: object,
    options: { signal?: AbortSignal },
  ): Promise<T> {
    const mapped = mapError(error, action);
    if (mapped.code !== 'UNAUTHENTICATED') throw mapped;
    if ((await this.#credentials.replacementFor(before)) === undefined) throw mapped;
    try {
      return (await this.sdk.request(action, request, options)) as T;
    } catch (again) {
      throw mapError(again, action);
    }
  }

  close(): void {
    this.#agent?.destroy();
  }
}

// The per-request and per-batch reactions below are methods bound to a record, not arrows made per
// request or batch: V8 keeps an arrow's optimized code only while an arrow of that literal lives,
// so a GC between bursts dropped it and the next burst compiled it again inside the measured phase
// (docs/bench-profiles.md §28.3). A bound method runs the method's code, which lives with the class.

/** A request under a signal of its own: closes that signal and maps a failure when it settles. */
class OwnSignalCall {
  readonly #signals: RequestSignals;
  readonly #shared: AbortSignal;
  readonly #own: RequestAbort;
  readonly #action: string;
  /** Set when the request holds a slot to give back. */
  readonly #limiter: Limiter | undefined;

  constructor(
    signals: RequestSignals,
    shared: AbortSignal,
    own: RequestAbort,
    action: string,
    limiter: Limiter | undefined,
  ) {
    this.#signals = signals;
    this.#shared = shared;
    this.#own = own;
    this.#action = action;
    this.#limiter = limiter;
  }

  answered(value: unknown): unknown {
    this.#signals.close(this.#shared, this.#own);
    this.#limiter?.release();
    return value;
  }

  failed(error: unknown): never {
    this.#signals.close(this.#shared, this.#own);
    this.#limiter?.release();
    throw mapError(error, this.#action);
  }
}

/** callEach's calls of one action: the limiter starts each with `start(index)`, bound to this. */
class EachCall {
  readonly #api: Api;
  readonly #action: string;
  readonly #request: (index: number) => object;
  readonly #signal: AbortSignal | undefined;

  constructor(api: Api, action: string, request: (index: number) => object, signal: AbortSignal | undefined) {
    this.#api = api;
    this.#action = action;
    this.#request = request;
    this.#signal = signal;
  }

  start(index: number): Promise<unknown> {
    return this.#api.direct(this.#action, this.#request(index), this.#signal);
  }
}

// One of each kept for good: a class's hidden class dies at a full GC that finds no instance, and
// the code compiled against it (Api.direct inlines these) is thrown away ("weak objects"); between
// bursts no request is in flight (core's shape-anchor.ts, docs/bench-profiles.md §28.1).
anchorShape(
  new OwnSignalCall(new RequestSignals(), new AbortController().signal, undefined as never, '', undefined),
);
anchorShape(new EachCall({} as Api, '', () => ({}), undefined));
