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

/** A connection's reads: the decoder, the buffer reads land in, and where they go once the connection exists. */
interface Reads {
  readonly decoder: CopyingFrameDecoder;
  readonly scratch: Buffer;
  to: ((n: number, buffer: Uint8Array) => void) | undefined;
}

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

  private constructor(address: string, socket: Socket, events: ConnectionEvents, reads: Reads) {
    this.address = address;
    this.#socket = socket;
    this.#events = events;
    this.#decoder = reads.decoder;
    this.#scratch = reads.scratch;
    socket.setNoDelay(true);
    reads.to = (n, buffer) => this.#onRead(n, buffer);
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
      const reads: Reads = { decoder: new CopyingFrameDecoder(), scratch, to: undefined };
      const socket = connect({
        host,
        port,
        onread: {
          buffer: () => reads.decoder.readTarget(scratch),
          callback: (n: number, buffer: Uint8Array) => {
            reads.to?.(n, buffer);
            return true; // false would pause the socket
          },
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
        resolve(new RemotingConnection(address, socket, events, reads));
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
