// grpc-js binding of the MessagingService: metadata and deadlines in, service results out, the
// shared fault injector per RPC, Telemetry sessions (settings replies and server-pushed orphaned
// transaction checks) and a stop() that ends streams and long polls at once instead of waiting.

import * as grpc from '@grpc/grpc-js';
import type { FaultDecision, FaultInjector } from '../contracts.js';
import type { RocketMqEngine } from './engine.js';
import {
  messagingServiceDefinition,
  type Resource,
  type SettingsMsg,
  type TelemetryCommandMsg,
} from './proto.js';
import { type CallContext, RocketMqService, type RocketMqServiceOptions, toStatus } from './service.js';

/** gRPC frame limit; the proxy allows 130 MiB so a 4 MiB body plus envelope fits (sheet §0.10). */
const MAX_GRPC_MESSAGE = 130 * 1024 * 1024;

export interface RocketMqServerOptions extends Omit<RocketMqServiceOptions, 'advertised'> {
  readonly host?: string;
  /** 0 = random. */
  readonly port?: number;
  /** Host put in routes; default the bound host (127.0.0.1 when bound to a wildcard). */
  readonly advertisedHost?: string;
  readonly faults?: FaultInjector;
  /**
   * Age of a half (uncommitted) transaction message before its producer is asked to check it,
   * and the interval between checks (the broker gives up after 15 and rolls back). 0 disables.
   * Default 30 000 ms.
   */
  readonly transactionCheckMs?: number;
  /**
   * Runs after a call was served and before its reply is sent (the `--state` journal): a reply
   * confirms only what this made durable. Throwing turns the reply into INTERNAL.
   */
  readonly commit?: (action: string) => void;
}

export interface RocketMqServer {
  /** `127.0.0.1:PORT`, the form the client's `endpoints` option takes. */
  readonly endpoint: string;
  readonly port: number;
  readonly service: RocketMqService;
  readonly engine: RocketMqEngine;
  /**
   * Resolves once no Telemetry stream is open: every started client's `shutdown()` has reached the
   * server. Await it (with a deadline) between stopping the clients and close(): closing under a
   * client still shutting down can crash it (sheet §0.9).
   */
  telemetryClosed(): Promise<void>;
  /** End Telemetry streams and long polls, answer hung calls, close the port. */
  close(): Promise<void>;
}

interface Session {
  readonly call: grpc.ServerDuplexStream<TelemetryCommandMsg, TelemetryCommandMsg>;
  readonly ctx: CallContext;
  settings?: SettingsMsg;
}

type AnyCall = {
  metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  on(event: string, fn: () => void): unknown;
};

export async function startRocketMqServer(options: RocketMqServerOptions): Promise<RocketMqServer> {
  const host = options.host ?? '127.0.0.1';
  const advertisedHost = options.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  let boundPort = 0;
  const service = new RocketMqService({
    ...options,
    advertised: () => ({ host: advertisedHost, port: boundPort }),
  });
  const faults = options.faults;
  const sessions = new Set<Session>();
  /** Ends one pending call or stream; all run on close(). */
  const pending = new Set<() => void>();
  let openStreams = 0;
  const onStreamsClosed = new Set<() => void>();
  let closing = false;

  const context = (call: AnyCall, signal?: AbortSignal): CallContext => {
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(call.metadata.getMap())) {
      metadata[key.toLowerCase()] = typeof value === 'string' ? value : value.toString('utf8');
    }
    const d = call.getDeadline();
    const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? d : undefined;
    return { metadata, ...(deadline !== undefined ? { deadline } : {}), ...(signal ? { signal } : {}) };
  };

  /** Waits out injected latency; false if the call went away or the server is closing meanwhile. */
  const delay = (ms: number, signal: AbortSignal): Promise<boolean> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve(!signal.aborted);
      const timer = setTimeout(() => resolve(!signal.aborted), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });

  /** A per-call abort signal that fires on client cancel/deadline or on close(). */
  const track = (call: AnyCall): { signal: AbortSignal; done: () => void } => {
    const controller = new AbortController();
    const abort = () => controller.abort();
    pending.add(abort);
    call.on('cancelled', abort);
    return { signal: controller.signal, done: () => pending.delete(abort) };
  };

  const decide = (action: string): FaultDecision =>
    faults?.decide('rocketmq', action) ?? { latencyMs: 0, kind: 'none' };

  const unavailable = (details: string) => grpcError(grpc.status.UNAVAILABLE, details);

  function unary<Req>(
    action: string,
    fn: (req: Req, ctx: CallContext) => Promise<unknown>,
  ): grpc.handleUnaryCall<Req, unknown> {
    return (call, callback) => {
      const { signal, done } = track(call);
      const finish = (error: grpc.ServerErrorResponse | null, value?: unknown) => {
        done();
        if (!signal.aborted || closing) callback(error, value);
      };
      void (async () => {
        const decision = decide(action);
        if (closing) return finish(unavailable('emulator is stopping'));
        if (!(await delay(decision.latencyMs, signal))) return finish(unavailable('emulator is stopping'));
        if (decision.kind === 'error') return finish(unavailable(`injected fault: ${action} unavailable`));
        if (decision.kind === 'reset') {
          done();
          return reset(call, () => finish(unavailable('injected fault: connection reset')));
        }
        // A hang answers nothing: the client's deadline fires (DEADLINE_EXCEEDED), or close() ends it.
        if (decision.kind === 'hang')
          return signal.addEventListener('abort', () => finish(unavailable('emulator is stopping')));
        try {
          const value = await fn(call.request, context(call, signal));
          options.commit?.(action);
          // The call took effect, but the client is told it failed: it retries (duplicates).
          if (decision.kind === 'lostReply')
            return finish(unavailable(`injected fault: ${action} reply lost`));
          finish(null, value);
        } catch (error) {
          finish(grpcError(grpc.status.INTERNAL, String(error)));
        }
      })();
    };
  }

  const receiveMessage: grpc.handleServerStreamingCall<Record<string, unknown>, unknown> = (call) => {
    const { signal, done } = track(call);
    const end = (error?: grpc.ServerErrorResponse) => {
      done();
      if (call.writableEnded || call.destroyed) return;
      if (error) call.emit('error', error);
      else call.end();
    };
    void (async () => {
      const decision = decide('ReceiveMessage');
      if (!(await delay(decision.latencyMs, signal)) || closing)
        return end(unavailable('emulator is stopping'));
      if (decision.kind === 'error') return end(unavailable('injected fault: ReceiveMessage unavailable'));
      if (decision.kind === 'reset') {
        done();
        return reset(call, () => end(unavailable('injected fault: connection reset')));
      }
      if (decision.kind === 'hang')
        return signal.addEventListener('abort', () => end(unavailable('emulator is stopping')));
      const items = await service.receiveMessage(call.request, context(call, signal));
      options.commit?.('ReceiveMessage');
      // Lost reply: the messages are leased but never reach the client; they come back once
      // their invisible duration ends.
      if (decision.kind === 'lostReply') return end(unavailable('injected fault: ReceiveMessage reply lost'));
      if (!signal.aborted || closing) for (const item of items) call.write(item);
      end();
    })().catch((error: unknown) => end(grpcError(grpc.status.INTERNAL, String(error))));
  };

  const telemetry: grpc.handleBidiStreamingCall<TelemetryCommandMsg, TelemetryCommandMsg> = (call) => {
    const ctx = context(call);
    const session: Session = { call, ctx };
    let ended = false;
    const end = (error?: grpc.ServerErrorResponse) => {
      if (ended) return;
      ended = true;
      sessions.delete(session);
      pending.delete(endGracefully);
      if (--openStreams === 0) for (const resolve of [...onStreamsClosed]) resolve();
      if (call.writableEnded || call.destroyed) return;
      if (error) call.emit('error', error);
      else call.end();
    };
    // On close() end with OK: an error after the client's shutdown can crash it (sheet §0.9).
    const endGracefully = () => end();
    pending.add(endGracefully);
    openStreams++;
    call.on('end', () => end());
    call.on('cancelled', () => end());
    call.on('error', () => end());
    const decision = decide('Telemetry');
    const open =
      decision.latencyMs > 0
        ? delay(decision.latencyMs, new AbortController().signal)
        : Promise.resolve(true);
    void open.then(() => {
      if (ended) return;
      if (closing) return end();
      if (decision.kind === 'error') return end(unavailable('injected fault: Telemetry unavailable'));
      if (decision.kind === 'reset')
        return reset(call, () => end(unavailable('injected fault: connection reset')));
      if (decision.kind === 'hang') return; // open but silent: the client's startup waits
      try {
        service.authenticate(ctx);
      } catch (error) {
        // Status only, no command: the client's startup rejects on it (sheet §2.1).
        call.write({ status: toStatus(error) });
        return end();
      }
      sessions.add(session);
      call.on('data', (cmd: TelemetryCommandMsg) => {
        if (ended) return;
        const reply = service.telemetry(cmd, ctx, true);
        if (reply === undefined) return;
        try {
          options.commit?.('Telemetry');
        } catch (error) {
          return end(grpcError(grpc.status.INTERNAL, String(error)));
        }
        if (cmd.settings && reply.settings) session.settings = cmd.settings;
        call.write(reply);
      });
    });
  };

  const notImplemented = (name: string) => unary(name, () => service.notImplemented(name));
  const pullMessage: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    void service.notImplemented('PullMessage').then((reply) => {
      call.write(reply);
      call.end();
    });
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE,
  });
  server.addService(messagingServiceDefinition(), {
    QueryRoute: unary('QueryRoute', (r: { topic?: Resource }, c) => service.queryRoute(r, c)),
    Heartbeat: unary('Heartbeat', (r: { group?: Resource }, c) => service.heartbeat(r, c)),
    SendMessage: unary('SendMessage', (r: Parameters<RocketMqService['sendMessage']>[0], c) =>
      service.sendMessage(r, c),
    ),
    QueryAssignment: unary('QueryAssignment', (r: Parameters<RocketMqService['queryAssignment']>[0], c) =>
      service.queryAssignment(r, c),
    ),
    ReceiveMessage: receiveMessage,
    AckMessage: unary('AckMessage', (r: Parameters<RocketMqService['ackMessage']>[0], c) =>
      service.ackMessage(r, c),
    ),
    ForwardMessageToDeadLetterQueue: unary(
      'ForwardMessageToDeadLetterQueue',
      (r: Parameters<RocketMqService['forwardMessageToDeadLetterQueue']>[0], c) =>
        service.forwardMessageToDeadLetterQueue(r, c),
    ),
    PullMessage: pullMessage,
    UpdateOffset: notImplemented('UpdateOffset'),
    GetOffset: notImplemented('GetOffset'),
    QueryOffset: notImplemented('QueryOffset'),
    EndTransaction: unary('EndTransaction', (r: Parameters<RocketMqService['endTransaction']>[0], c) =>
      service.endTransaction(r, c),
    ),
    Telemetry: telemetry,
    NotifyClientTermination: unary('NotifyClientTermination', (r: { group?: Resource }, c) =>
      service.notifyClientTermination(r, c),
    ),
    ChangeInvisibleDuration: unary(
      'ChangeInvisibleDuration',
      (r: Parameters<RocketMqService['changeInvisibleDuration']>[0], c) =>
        service.changeInvisibleDuration(r, c),
    ),
    RecallMessage: notImplemented('RecallMessage'),
    SyncLiteSubscription: notImplemented('SyncLiteSubscription'),
  } as grpc.UntypedServiceImplementation);

  boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (error, port) => (error ? reject(error) : resolve(port)),
    );
  });

  // Orphaned half messages: ask a producer of that topic to check them, as the broker does.
  const checkMs = options.transactionCheckMs ?? 30_000;
  const checker =
    checkMs > 0
      ? setInterval(
          () => {
            for (const { topic, message } of service.engine.dueTransactionChecks(checkMs, 15)) {
              for (const s of sessions) {
                const resource = s.settings?.publishing?.topics?.find((t) => {
                  try {
                    return service.topicKey(t, s.ctx) === topic;
                  } catch {
                    return false;
                  }
                });
                if (resource === undefined) continue;
                s.call.write({
                  recover_orphaned_transaction_command: {
                    message: service.wireMessage(message, resource),
                    transaction_id: message.transactionId ?? '',
                  },
                });
                break;
              }
            }
          },
          Math.min(1000, checkMs),
        )
      : undefined;
  checker?.unref();
  // Background revive: expired messages out of attempts go to the DLQ even if nobody polls,
  // and auto-renew deliveries stay invisible while their client's Telemetry stream is open.
  const reviver = setInterval(() => {
    service.engine.reviveExpired();
    const connected = new Set<string>();
    for (const s of sessions) {
      const id = s.ctx.metadata['x-mq-client-id'];
      if (id !== undefined) connected.add(id);
    }
    service.engine.renewHeld((id) => connected.has(id), service.autoRenewInvisibleMs);
  }, 250);
  reviver.unref();

  let closed: Promise<void> | undefined;
  return {
    endpoint: `${advertisedHost}:${boundPort}`,
    port: boundPort,
    service,
    engine: service.engine,
    telemetryClosed() {
      if (openStreams === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          onStreamsClosed.delete(done);
          resolve();
        };
        onStreamsClosed.add(done);
      });
    },
    close() {
      closed ??= (async () => {
        closing = true;
        if (checker) clearInterval(checker);
        clearInterval(reviver);
        for (const end of [...pending]) end();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 1000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      })();
      return closed;
    },
  };
}

/** Drop the connection under a call (an injected reset); falls back to `otherwise` if unreachable. */
function reset(call: unknown, otherwise: () => void): void {
  // grpc-js keeps the HTTP/2 stream two levels down; not public API, hence the fallback.
  const stream = (call as { call?: { nextCall?: { stream?: { session?: { destroy(): void } } } } }).call
    ?.nextCall?.stream;
  if (stream?.session) stream.session.destroy();
  else otherwise();
}

function grpcError(code: grpc.status, details: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}
