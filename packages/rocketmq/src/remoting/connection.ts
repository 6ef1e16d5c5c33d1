// One TCP connection speaking Remoting: requests matched to replies by opaque, each with its own
// timeout; requests the broker sends us (NOTIFY_CONSUMER_IDS_CHANGED, …) go to a handler. Any
// socket error or a corrupt frame closes the connection and fails what is pending, retryably: the
// pool opens a new one on the next call.

import { connect, type Socket } from 'node:net';
import { TimeoutError, UnavailableError } from '@switchyard/core/driver';
import {
  CopyingFrameDecoder,
  encodeCommandParts,
  encodeHead,
  isResponse,
  type RemotingCommand,
} from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';

/**
 * Where a socket's reads go: its connection, set once the connection exists. A symbol on the
 * socket, so that one function (RemotingConnection's #socketRead, which node calls with the socket
 * as `this`) serves every connection.
 */
const CONNECTION = Symbol('remotingConnection');
type ReadingSocket = Socket & { [CONNECTION]?: RemotingConnection };

interface Pending {
  readonly resolve: (reply: RemotingCommand) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ConnectionEvents {
  /** A request from the broker (flag without RESPONSE). */
  onRequest(request: RemotingCommand, connection: RemotingConnection): void;
  onClose(connection: RemotingConnection): void;
}

/** The one buffer a connection's socket reads into (node's default read size). */
const READ_BYTES = 64 * 1024;

export class RemotingConnection {
  readonly address: string;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #decoder: CopyingFrameDecoder;
  readonly #scratch: Buffer;
  readonly #events: ConnectionEvents;
  #closedBecause: string | undefined;

  private constructor(
    address: string,
    socket: Socket,
    events: ConnectionEvents,
    decoder: CopyingFrameDecoder,
    scratch: Buffer,
  ) {
    this.address = address;
    this.#socket = socket;
    this.#events = events;
    this.#decoder = decoder;
    this.#scratch = scratch;
    socket.setNoDelay(true);
    (socket as ReadingSocket)[CONNECTION] = this;
    socket.on('error', (error) => this.close(`connection error: ${error.message}`));
    socket.on('close', () => this.close('connection closed by the peer'));
  }

  /** Connects within `timeoutMs`; rejects UNAVAILABLE (retryable) when it cannot. */
  static open(address: string, timeoutMs: number, events: ConnectionEvents): Promise<RemotingConnection> {
    const at = address.lastIndexOf(':');
    const host = address.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(at + 1));
    return new Promise((resolve, reject) => {
      // Reads land in one buffer per connection (net's onread), or straight into the frame being
      // filled when the rest of it is at least a whole read: no fresh 64 KiB buffer per socket
      // read, as a 'data' listener gets, and most of a large frame is not copied in this process.
      // At 64 KiB and 1 MiB messages those read buffers were a third to a half of the memory a
      // receive allocated (docs/bench-profiles.md §25.5).
      const scratch = Buffer.allocUnsafe(READ_BYTES);
      // No closure per connection on the read path: node calls the callback with the socket as
      // `this`, and the buffer function is the decoder's own method, bound. Closures made per
      // connection lost their optimized code when their connection went (each consumer has its own
      // connections), and the next connection's ran unoptimized again (docs/bench-profiles.md §28,
      // remoting; the rabbitmq driver's frame reader, §27.4).
      const decoder = new CopyingFrameDecoder();
      const socket = connect({
        host,
        port,
        onread: {
          buffer: decoder.readTarget.bind(decoder, scratch),
          callback: RemotingConnection.#socketRead,
        },
      });
      const fail = (reason: string, cause?: unknown) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new UnavailableError(`rocketmq cannot connect to ${address}: ${reason}`, {
            driver: DRIVER,
            ...(cause === undefined ? {} : { cause }),
          }),
        );
      };
      const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
      socket.once('error', (error) => fail(error.message, error));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RemotingConnection(address, socket, events, decoder, scratch));
      });
    });
  }

  get closed(): boolean {
    return this.#closedBecause !== undefined;
  }

  /**
   * Sends a request and resolves with its reply (any code); rejects TIMEOUT or UNAVAILABLE.
   * `bodyParts`, when given, is the body in pieces, written one after another (`request.body` unset).
   */
  invoke(
    request: RemotingCommand,
    timeoutMs: number,
    what: string,
    bodyParts?: readonly Buffer[],
  ): Promise<RemotingCommand> {
    if (this.#closedBecause !== undefined) return Promise.reject(this.#lostError(what));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(request.opaque);
        reject(
          new TimeoutError(`rocketmq ${what}: no reply from ${this.address} within ${timeoutMs} ms`, {
            driver: DRIVER,
          }),
        );
      }, timeoutMs);
      this.#pending.set(request.opaque, { resolve, reject, timer });
      if (bodyParts === undefined) this.#write(request);
      else this.#writeParts(request, bodyParts);
    });
  }

  /** Writes a command with no reply expected (oneway requests, replies to the broker). */
  send(command: RemotingCommand): void {
    if (this.#closedBecause === undefined) this.#write(command);
  }

  #write(command: RemotingCommand): void {
    const [head, body] = encodeCommandParts(command);
    if (body === undefined) {
      this.#socket.write(head);
      return;
    }
    this.#socket.cork();
    this.#socket.write(head);
    this.#socket.write(body);
    process.nextTick(() => this.#socket.uncork());
  }

  /** Writes the frame's head and then its body's pieces, in one writev. */
  #writeParts(command: RemotingCommand, parts: readonly Buffer[]): void {
    let length = 0;
    for (const part of parts) length += part.length;
    this.#socket.cork();
    this.#socket.write(encodeHead(command, length));
    for (const part of parts) this.#socket.write(part);
    process.nextTick(() => this.#socket.uncork());
  }

  close(reason = 'closed by the client'): void {
    if (this.#closedBecause !== undefined) return;
    this.#closedBecause = reason;
    this.#socket.destroy();
    for (const [opaque, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(opaque);
      pending.reject(this.#lostError('request'));
    }
    this.#events.onClose(this);
  }

  #lostError(what: string): UnavailableError {
    return new UnavailableError(
      `rocketmq ${what}: connection to ${this.address} lost (${this.#closedBecause})`,
      {
        driver: DRIVER,
      },
    );
  }

  /** net's onread callback for every connection: node calls it with the socket as `this`. */
  static readonly #socketRead = function (this: Socket, n: number, buffer: Uint8Array): boolean {
    const connection = (this as ReadingSocket)[CONNECTION];
    if (connection !== undefined) connection.#onRead(n, buffer);
    return true; // false would pause the socket
  };

  /** `n` bytes read into `buffer`: the scratch buffer, or the frame the decoder is filling. */
  #onRead(n: number, buffer: Uint8Array): void {
    let commands: RemotingCommand[];
    try {
      commands =
        buffer === this.#scratch
          ? this.#decoder.push(this.#scratch.subarray(0, n))
          : this.#decoder.readInPlace(n);
    } catch (error) {
      this.close((error as Error).message);
      return;
    }
    for (const command of commands) {
      if (!isResponse(command)) {
        this.#events.onRequest(command, this);
        continue;
      }
      const pending = this.#pending.get(command.opaque);
      if (pending === undefined) continue; // timed out already
      this.#pending.delete(command.opaque);
      clearTimeout(pending.timer);
      pending.resolve(command);
    }
  }
}
