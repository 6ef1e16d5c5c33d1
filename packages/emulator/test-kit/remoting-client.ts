// Test helper: a bare Remoting connection speaking the shared codec, for tests that need exact
// requests and replies (codes, remarks, headers) from the emulator's Remoting server.

import { connect, type Socket } from 'node:net';
import {
  encodeCommand,
  FLAG_ONEWAY,
  FrameDecoder,
  isResponse,
  type RemotingCommand,
  signRequest,
} from '@switchyard/rocketmq-remoting';
import { within } from './within.js';

export class RawRemotingClient {
  /** Requests the server sent us (NOTIFY_CONSUMER_IDS_CHANGED), in order. */
  readonly received: RemotingCommand[] = [];
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;
  private readonly pending = new Map<number, (cmd: RemotingCommand) => void>();
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    private readonly credentials?: { accessKey: string; secretKey: string },
  ) {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const cmd of decoder.push(chunk)) {
        if (isResponse(cmd)) {
          this.pending.get(cmd.opaque)?.(cmd);
          this.pending.delete(cmd.opaque);
        } else {
          this.received.push(cmd);
          for (const wake of [...this.listeners]) wake();
        }
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(
    endpoint: string,
    credentials?: { accessKey: string; secretKey: string },
  ): Promise<RawRemotingClient> {
    const at = endpoint.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) });
      socket.once('connect', () => resolve(new RawRemotingClient(socket, credentials)));
      socket.once('error', reject);
    });
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  /** Sends a request (signed when the client has credentials) and waits for its reply. */
  invoke(cmd: RemotingCommand, timeoutMs = 10_000): Promise<RemotingCommand> {
    const reply = new Promise<RemotingCommand>((resolve) => this.pending.set(cmd.opaque, resolve));
    this.socket.write(encodeCommand(this.sign(cmd)));
    return within(reply, timeoutMs, `reply to request code ${cmd.code}`);
  }

  /** Sends a request flagged oneway. */
  oneway(cmd: RemotingCommand): void {
    this.socket.write(encodeCommand(this.sign({ ...cmd, flag: cmd.flag | FLAG_ONEWAY })));
  }

  /** Writes raw bytes (corrupt-frame tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The first server request matching `match`, waiting for it if needed. */
  async nextReceived(match: (cmd: RemotingCommand) => boolean, timeoutMs = 10_000): Promise<RemotingCommand> {
    const found = () => {
      const i = this.received.findIndex(match);
      return i < 0 ? undefined : this.received.splice(i, 1)[0];
    };
    const wait = new Promise<RemotingCommand>((resolve) => {
      const check = () => {
        const hit = found();
        if (hit === undefined) return;
        this.listeners.delete(check);
        resolve(hit);
      };
      this.listeners.add(check);
      check();
    });
    return within(wait, timeoutMs, 'a request from the server');
  }

  close(): void {
    this.socket.destroy();
  }

  private sign(cmd: RemotingCommand): RemotingCommand {
    if (this.credentials === undefined) return cmd;
    const { accessKey, secretKey } = this.credentials;
    return { ...cmd, extFields: signRequest(cmd.extFields, cmd.body, accessKey, secretKey) };
  }
}
