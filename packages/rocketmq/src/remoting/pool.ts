// One connection per broker or name-server address, shared by every producer and consumer of a
// driver. A lost connection is replaced on the next call; attempts after a failure wait out a
// full-jitter backoff (core's), so a dead broker is not hammered by every pull loop at once.
// Every request is ACL-signed here when credentials are configured (sheet §5.1: name-server
// requests and oneway ones too).

import { backoffDelay, type Logger, type Secret, sleep, UnavailableError } from '@switchyard/core/driver';
import {
  type BodyBytes,
  FLAG_ONEWAY,
  type RemotingCommand,
  ResponseCode,
  request,
  response,
  signRequest,
} from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';
import type { LiveCredentials } from '../live-credentials.js';
import { type ConnectionEvents, RemotingConnection } from './connection.js';
import { responseError } from './errors.js';

const RECONNECT = { initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2 } as const;

export interface PoolOptions {
  /** Read when each request is signed; a live object (live-credentials.ts) rotates the token. */
  readonly credentials: LiveCredentials | undefined;
  readonly securityToken: Secret | undefined;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** A request from a broker; replies to it are the handler's business. */
  readonly onRequest: (request: RemotingCommand, reply: (r: RemotingCommand) => void) => void;
}

interface Slot {
  connection: Promise<RemotingConnection> | undefined;
  failures: number;
  retryAt: number;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  /** Reply codes that are not errors (SUCCESS always is). */
  readonly accept?: readonly number[];
}

export class ConnectionPool {
  readonly #slots = new Map<string, Slot>();
  readonly #options: PoolOptions;
  readonly #events: ConnectionEvents;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#events = {
      onRequest: (req, connection) => options.onRequest(req, (reply) => connection.send(reply)),
      // A closed connection is noticed (and replaced) by the next call that would use it.
      onClose: () => undefined,
    };
  }

  /**
   * Sends `code` with `fields` to `address` and returns the reply; a reply code other than
   * SUCCESS and `accept` becomes its portable error.
   */
  async call(
    address: string,
    code: number,
    fields: Record<string, string | number | boolean | undefined>,
    body: BodyBytes | undefined,
    what: string,
    options: CallOptions = {},
  ): Promise<RemotingCommand> {
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    // A body in pieces (a batch) is written piece by piece, never joined into one buffer.
    const parts = body === undefined || Buffer.isBuffer(body) ? undefined : body;
    for (let attempt = 1; ; attempt++) {
      const usedKey = this.#options.credentials?.accessKey.reveal() ?? '';
      const command = this.#sign(
        request(code, fields, parts ? undefined : (body as Buffer | undefined)),
        parts,
      );
      const connection = await this.#connection(address, timeoutMs);
      const reply = await connection.invoke(command, timeoutMs, what, parts);
      if (reply.code === ResponseCode.SUCCESS || options.accept?.includes(reply.code)) return reply;
      const error = responseError(reply, what);
      // Refused by the ACL (a role token rotated before the provider noticed): one more ask of
      // the provider and, given another token, one more try — a refused request did nothing.
      const renew = this.#options.credentials?.renew;
      if (
        attempt === 1 &&
        error.code === 'UNAUTHENTICATED' &&
        renew !== undefined &&
        (await renew(usedKey))
      ) {
        continue;
      }
      throw error;
    }
  }

  /** Sends a oneway request; resolves once written (there is no reply). */
  async oneway(
    address: string,
    code: number,
    fields: Record<string, string | number | boolean | undefined>,
  ): Promise<void> {
    const command = request(code, fields);
    command.flag |= FLAG_ONEWAY;
    const connection = await this.#connection(address, this.#options.requestTimeoutMs);
    connection.send(this.#sign(command));
  }

  close(): void {
    this.#closed = true;
    for (const slot of this.#slots.values())
      void slot.connection?.then(
        (c) => c.close(),
        () => undefined,
      );
    this.#slots.clear();
  }

  #sign(command: RemotingCommand, bodyParts?: readonly Buffer[]): RemotingCommand {
    const credentials = this.#options.credentials;
    if (credentials === undefined) return command;
    command.extFields = signRequest(
      command.extFields,
      bodyParts ?? command.body,
      credentials.accessKey.reveal(),
      credentials.secretKey.reveal(),
      this.#options.securityToken?.reveal(),
    );
    return command;
  }

  async #connection(address: string, timeoutMs: number): Promise<RemotingConnection> {
    if (this.#closed) throw new UnavailableError('rocketmq connection pool is closed', { driver: DRIVER });
    let slot = this.#slots.get(address);
    if (slot === undefined) {
      slot = { connection: undefined, failures: 0, retryAt: 0 };
      this.#slots.set(address, slot);
    }
    const open = slot.connection;
    if (open !== undefined) {
      const connection = await open;
      if (!connection.closed) return connection;
      if (slot.connection === open) slot.connection = undefined;
    }
    if (slot.connection === undefined) {
      const wait = slot.retryAt - Date.now();
      if (wait > timeoutMs) {
        throw new UnavailableError(
          `rocketmq ${address} is unreachable (${slot.failures} failed connection attempts); retrying in ${wait} ms`,
          { driver: DRIVER },
        );
      }
      const current = slot;
      current.connection = (async () => {
        if (wait > 0) await sleep(wait);
        try {
          const connection = await RemotingConnection.open(address, timeoutMs, this.#events);
          current.failures = 0;
          return connection;
        } catch (error) {
          current.failures++;
          current.retryAt = Date.now() + backoffDelay(RECONNECT, current.failures);
          current.connection = undefined;
          throw error;
        }
      })();
    }
    return slot.connection!;
  }
}

/** A reply for a broker request this client does not serve (sheet §1.6). */
export function notSupported(req: RemotingCommand): RemotingCommand {
  return response(
    req,
    ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
    {},
    undefined,
    `request code ${req.code} not supported`,
  );
}
