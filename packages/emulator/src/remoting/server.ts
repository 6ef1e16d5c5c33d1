// The Remoting TCP server: frames in and out of each connection, the shared fault injector per
// request (protocol `rocketmq`, action = Apache's request code name such as `SEND_MESSAGE_V2` or
// `PULL_MESSAGE`), the `--state` commit before each reply, connection cuts for chaos tests, and a
// close() that ends long polls and drops every socket at once.

import { createServer, type Socket } from 'node:net';
import {
  encodeCommand,
  encodeCommandParts,
  FrameDecoder,
  isOneway,
  isResponse,
  type RemotingCommand,
  RequestCode,
  ResponseCode,
  response,
} from '@switchyard/rocketmq-remoting';
import type { FaultDecision, FaultInjector } from '../contracts.js';
import { type Peer, RemotingBroker, type RemotingBrokerOptions } from './broker.js';

export interface RemotingServerOptions extends Omit<RemotingBrokerOptions, 'advertised'> {
  readonly host?: string;
  /** 0 = random. */
  readonly port?: number;
  /** Host put in routes and message ids; default the bound host (127.0.0.1 for a wildcard). */
  readonly advertisedHost?: string;
  readonly faults?: FaultInjector;
  /** Runs after a request was served and before its reply (the `--state` journal). */
  readonly commit?: (action: string) => void;
}

export interface RemotingServer {
  /** `127.0.0.1:PORT`: the name server address 4.x clients take (`namesrvAddr`, ali-ons `nameSrv`). */
  readonly endpoint: string;
  readonly port: number;
  readonly broker: RemotingBroker;
  /** Open client connections. */
  readonly connections: number;
  /** Drop every client connection now (a network cut); returns how many were dropped. */
  cutConnections(): number;
  /** Connections and consumer groups, for `/_emulator/state`. */
  inspect(): unknown;
  close(): Promise<void>;
}

const NONE: FaultDecision = { latencyMs: 0, kind: 'none' };
const CODE_NAMES = new Map<number, string>(Object.entries(RequestCode).map(([name, code]) => [code, name]));
/** How often consumers silent past the channel expiry are dropped (more often for a short expiry). */
const SWEEP_MS = 10_000;

export function actionOf(code: number): string {
  return CODE_NAMES.get(code) ?? `CODE_${code}`;
}

export async function startRemotingServer(options: RemotingServerOptions): Promise<RemotingServer> {
  const host = options.host ?? '127.0.0.1';
  const advertisedHost = options.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  let boundPort = 0;
  const broker = new RemotingBroker({ ...options, advertised: () => `${advertisedHost}:${boundPort}` });
  const sockets = new Map<Socket, AbortController>();
  let nextConnectionId = 0;
  let closing = false;

  const decide = (action: string): FaultDecision => options.faults?.decide('rocketmq', action) ?? NONE;

  const serve = async (socket: Socket, peer: Peer, cmd: RemotingCommand): Promise<void> => {
    const action = actionOf(cmd.code);
    const decision = decide(action);
    if (decision.latencyMs > 0 && !(await sleep(decision.latencyMs, peer.signal))) return;
    if (decision.kind === 'reset') {
      socket.destroy();
      return;
    }
    // A hang answers nothing: the client's request times out, or the connection goes.
    if (decision.kind === 'hang') return;
    let reply: RemotingCommand | undefined;
    if (decision.kind === 'error') {
      reply = response(
        cmd,
        ResponseCode.SYSTEM_BUSY,
        {},
        undefined,
        `[OVERLOAD]system busy, start flow control for a while (injected fault: ${action})`,
      );
    } else {
      reply = await broker.dispatch(cmd, peer);
      try {
        options.commit?.(action);
      } catch (error) {
        reply = response(cmd, ResponseCode.SYSTEM_ERROR, {}, undefined, `state not saved: ${String(error)}`);
      }
      // The request took effect, but its reply is lost: the client times out and may retry.
      if (decision.kind === 'lostReply') return;
    }
    if (reply === undefined || isOneway(cmd) || socket.destroyed) return;
    // Head and body written apart, in one writev: a pull reply's body is not copied again into a
    // frame (encodeCommand's join).
    const [head, body] = encodeCommandParts(reply);
    if (body === undefined) {
      socket.write(head);
      return;
    }
    socket.cork();
    socket.write(head);
    socket.write(body);
    socket.uncork();
  };

  const server = createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const controller = new AbortController();
    sockets.set(socket, controller);
    const address = `${(socket.remoteAddress ?? '0.0.0.0').replace(/^::ffff:/, '')}:${socket.remotePort ?? 0}`;
    const peer: Peer = {
      connectionId: ++nextConnectionId,
      address,
      signal: controller.signal,
      send(cmd) {
        if (!socket.destroyed) socket.write(encodeCommand(cmd));
      },
    };
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let commands: RemotingCommand[];
      try {
        commands = decoder.push(chunk);
      } catch {
        // A corrupt frame leaves the stream out of step: Netty closes the channel too.
        socket.destroy();
        return;
      }
      for (const cmd of commands) {
        // Replies to our notifications (none expected: they are oneway) are ignored.
        if (isResponse(cmd)) continue;
        serve(socket, peer, cmd).catch(() => socket.destroy());
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      controller.abort();
      sockets.delete(socket);
      broker.disconnected(peer);
    });
  });

  boundPort = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });

  const sweeper = setInterval(
    () => {
      for (const peer of broker.expireSilent()) {
        for (const [socket, controller] of sockets) if (controller.signal === peer.signal) socket.destroy();
      }
    },
    Math.min(SWEEP_MS, Math.max(10, (options.channelExpiredMs ?? SWEEP_MS) / 2)),
  );
  sweeper.unref();

  const cut = (): number => {
    const n = sockets.size;
    for (const socket of [...sockets.keys()]) socket.destroy();
    return n;
  };

  let closed: Promise<void> | undefined;
  return {
    endpoint: `${advertisedHost}:${boundPort}`,
    port: boundPort,
    broker,
    get connections() {
      return sockets.size;
    },
    cutConnections: cut,
    inspect: () => ({ connections: sockets.size, groups: broker.consumers.inspect() }),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        clearInterval(sweeper);
        // The engine may outlive this server (and serve a restarted one): let go of its index.
        broker.index.close();
        for (const controller of sockets.values()) controller.abort();
        server.close(() => resolve());
        cut();
      });
      return closed;
    },
  };
}

/** Waits out injected latency; false if the connection went away meanwhile. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(!signal.aborted), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(false);
      },
      { once: true },
    );
  });
}
