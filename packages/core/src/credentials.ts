// The credential a driver signs or logs in with, kept fresh. Drivers ask `get()` before each
// request (HTTP flavours) or each connection (AMQP, RocketMQ); it answers from memory and fetches a
// new credential in the background ahead of expiry, so no request waits for, or fails on, a
// refresh. A failed refresh is reported (status event, warning) and the old credential stays in use
// until it really expires; only then does `get()` fail, with UNAUTHENTICATED. After the broker
// rejects a credential, `refresh()` fetches once more, so a rotation the provider has not noticed
// yet costs one retry, not an error.

import { inspect } from 'node:util';
import {
  type Credential,
  type CredentialInput,
  type CredentialSource,
  CredentialSourceError,
  type Loader,
  loaderFor,
} from './credential-sources.js';
import { UnauthenticatedError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { redact } from './secret.js';
import type { StatusEvent } from './status.js';

export interface CredentialProviderOptions {
  readonly driver: string;
  /** What the credential is for, in messages: 'CMQ SecretId/SecretKey', 'RabbitMQ password'. */
  readonly what?: string;
  readonly status?: (event: StatusEvent) => void;
  readonly logger?: Logger;
  /** Fetch a new credential this long before expiry (capped at a third of its lifetime). Default 5 min. */
  readonly refreshAheadMs?: number;
  /** First wait after a failed background refresh; doubles up to 30 s. Default 1 s. */
  readonly retryMs?: number;
  readonly now?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

const DEFAULT_AHEAD_MS = 300_000;
const MAX_RETRY_MS = 30_000;

/**
 * Keeps one driver's credential fresh from its `credentials` source (see docs/credentials.md):
 * `get()` before each request or connection, `replacementFor()` after the broker refused one.
 */
export class CredentialProvider {
  readonly #loader: Loader;
  readonly #options: CredentialProviderOptions;
  readonly #ahead: number;
  readonly #now: () => number;
  #current: Credential | undefined;
  /**
   * The last credentials replaced, kept alive: a Secret is redacted from text only while it lives,
   * and a broker's refusal of a request signed just before a rotation may quote the old token.
   */
  readonly #retired: Credential[] = [];
  #fetchedAt = 0;
  #checkedAt = 0;
  #inflight: Promise<Credential> | undefined;
  #checking = false;
  #failures = 0;
  #nextAttemptAt = 0;

  constructor(source: CredentialSource, options: CredentialProviderOptions) {
    this.#loader = loaderFor(source, options.env);
    this.#options = options;
    const fromSource = typeof source === 'object' ? source.refreshAheadMs : undefined;
    this.#ahead = fromSource ?? options.refreshAheadMs ?? DEFAULT_AHEAD_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A provider that always answers the same credential (inline keys, URL passwords). */
  static fixed(
    input: Omit<CredentialInput, 'expiresAt'>,
    options: CredentialProviderOptions,
  ): CredentialProvider {
    return new CredentialProvider({ value: input }, options);
  }

  /** False for a fixed credential: re-asking can never give another one. */
  get rotates(): boolean {
    return this.#loader.kind !== 'value';
  }

  /** The credential in use, without fetching (undefined before the first get()). */
  get current(): Credential | undefined {
    return this.#current;
  }

  /**
   * A credential that has not expired: from memory when there is one (starting a background
   * refresh when it is due), fetched now when there is none. Rejects only with UNAUTHENTICATED.
   */
  async get(): Promise<Credential> {
    return this.fresh() ?? this.#fetch();
  }

  /**
   * `get()`'s answer from memory, without a promise: the current credential when it has not
   * expired (starting a background refresh when one is due), else undefined — then `get()` must
   * fetch. For a caller on every request's path (an SDK signing each call), where an await and
   * its promise cost more than the lookup.
   */
  fresh(): Credential | undefined {
    const c = this.#current;
    if (c === undefined) return undefined;
    const now = this.#now();
    if (c.expiresAt !== undefined && now >= c.expiresAt) return undefined;
    this.#maybeRefreshInBackground(c, now);
    return c;
  }

  /**
   * Fetches a credential now, after the broker refused the one in use (rotated, revoked). Resolves
   * with the same object when the source still gives the same credential, so a caller can tell
   * whether trying again can help.
   */
  refresh(): Promise<Credential> {
    return this.#fetch();
  }

  /**
   * After the broker refused a request signed with `used`: the credential to try once more with —
   * the current one when another request already got a new one, else a fresh fetch — or undefined
   * when the source is fixed, fails, or still gives `used` (then the refusal stands).
   */
  async replacementFor(used: Credential): Promise<Credential | undefined> {
    if (!this.rotates) return undefined;
    const current = this.#current;
    const fresh =
      current !== undefined && current !== used ? current : await this.#fetch().catch(() => undefined);
    return fresh === undefined || fresh === used ? undefined : fresh;
  }

  #maybeRefreshInBackground(c: Credential, now: number): void {
    if (this.#inflight !== undefined || now < this.#nextAttemptAt) return;
    const loader = this.#loader;
    let due = false;
    if (c.expiresAt !== undefined) {
      const ahead = Math.min(this.#ahead, (c.expiresAt - this.#fetchedAt) / 3);
      due = now >= c.expiresAt - ahead;
    }
    if (loader.maxAgeMs !== undefined && now >= this.#fetchedAt + loader.maxAgeMs) due = true;
    if (due) {
      this.#fetch().catch(() => {});
      return;
    }
    if (
      loader.changed !== undefined &&
      !this.#checking &&
      now >= this.#checkedAt + (loader.checkIntervalMs ?? 0)
    ) {
      this.#checkedAt = now;
      this.#checking = true;
      loader
        .changed()
        .then((changed) => (changed ? this.#fetch() : undefined))
        .catch(() => {})
        .finally(() => {
          this.#checking = false;
        });
    }
  }

  #fetch(): Promise<Credential> {
    this.#inflight ??= this.#load();
    return this.#inflight;
  }

  async #load(): Promise<Credential> {
    const { driver, status, logger = silentLogger } = this.#options;
    try {
      const loaded = await this.#loader.load().finally(() => {
        // Before anyone hears of the outcome: a caller told of it must be able to start another.
        this.#inflight = undefined;
      });
      const now = this.#now();
      if (loaded.expiresAt !== undefined && loaded.expiresAt <= now) {
        throw new CredentialSourceError(
          `the ${this.#loader.kind} source gave a credential that expired already`,
        );
      }
      const previous = this.#current;
      const same = previous !== undefined && sameCredential(previous, loaded);
      if (previous !== undefined && !same) {
        this.#retired.push(previous);
        if (this.#retired.length > 4) this.#retired.shift();
      }
      this.#current = same ? previous : loaded;
      this.#fetchedAt = now;
      this.#checkedAt = now;
      this.#failures = 0;
      this.#nextAttemptAt = 0;
      if (previous !== undefined && !same) {
        const expiresAt = loaded.expiresAt;
        status?.({ type: 'credentials', driver, state: 'refreshed', ...(expiresAt ? { expiresAt } : {}) });
        logger.info({ driver, expiresAt }, `${this.#what()}: new credential in use`);
      }
      return this.#current;
    } catch (error) {
      const failure = this.#failure(error);
      this.#failures += 1;
      const retryMs = this.#options.retryMs ?? 1_000;
      this.#nextAttemptAt = this.#now() + Math.min(retryMs * 2 ** (this.#failures - 1), MAX_RETRY_MS);
      status?.({ type: 'credentials', driver, state: 'refresh-failed', error: failure });
      logger.warn({ driver, err: failure }, failure.message);
      throw failure;
    }
  }

  #failure(error: unknown): InstanceType<typeof UnauthenticatedError> {
    // Our own failures name paths and variables; a source function's error is the caller's or an
    // SDK's text, which may quote what it read (a token in a URL, a key in a response): only its
    // name and code are shown, and the original stays reachable through the cause's unwrap().
    const code = (error as { code?: unknown })?.code;
    const text =
      error instanceof CredentialSourceError
        ? redact(error.message)
        : `it threw ${error instanceof Error ? error.name : typeof error}${typeof code === 'string' ? ` ${code}` : ''} (its message is withheld: it may quote a secret; error.cause.unwrap() returns it)`;
    const c = this.#current;
    const now = this.#now();
    const still =
      c === undefined
        ? 'no credential to use'
        : c.expiresAt === undefined || now < c.expiresAt
          ? `the current credential stays in use${c.expiresAt === undefined ? '' : ` until ${new Date(c.expiresAt).toISOString()}`}`
          : `the current credential expired at ${new Date(c.expiresAt).toISOString()}`;
    const cause = new WithheldError(text, error);
    return new UnauthenticatedError(
      `${this.#what()}: getting a credential from the ${this.#loader.kind} source failed: ${text}; ${still} (check the credentials source in the config)`,
      {
        driver: this.#options.driver,
        retryable: c !== undefined && (c.expiresAt === undefined || now < c.expiresAt),
        cause,
        details: { source: this.#loader.kind, expiresAt: c?.expiresAt },
      },
    );
  }

  #what(): string {
    return this.#options.what ?? `${this.#options.driver} credentials`;
  }

  toJSON(): object {
    return { source: this.#loader.kind, expiresAt: this.#current?.expiresAt };
  }

  [inspect.custom](): string {
    return `CredentialProvider(${this.#loader.kind})`;
  }
}

function sameCredential(a: Credential, b: Credential): boolean {
  return (
    a.expiresAt === b.expiresAt &&
    a.secret.reveal() === b.secret.reveal() &&
    a.id === b.id &&
    a.token?.reveal() === b.token?.reveal()
  );
}

/** The source's own error, kept out of every printed form: only `unwrap()` gives it back. */
export class WithheldError extends Error {
  readonly #original: unknown;
  constructor(message: string, original: unknown) {
    super(message);
    this.name = 'WithheldError';
    this.#original = original;
  }
  unwrap(): unknown {
    return this.#original;
  }
}
