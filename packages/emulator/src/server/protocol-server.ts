// One HTTP server per wire protocol: keep-alive, whole-body reads with a cap, per-request faults,
// the admin routes, and a stop() that ends long polls and hangs instead of waiting them out.

import { setMaxListeners } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpReply, ParsedRequest, ProtocolHandler } from '../contracts.js';
import type { Faults } from '../faults/injector.js';
import { ADMIN_PREFIX, serveAdmin } from './admin.js';
import { readBody } from './body.js';

export interface ProtocolServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly faults: Faults;
  /** State of every engine, for GET /_emulator/state. */
  readonly inspect: () => unknown;
  /** Bearer token every `/_emulator/*` request must carry; undefined leaves them open. */
  readonly adminToken?: string;
  /**
   * Runs after a request was served and before its reply is written (the `--state` journal): a
   * reply confirms only what this made durable. Throwing turns the reply into a 500.
   */
  readonly commit?: (protocol: string, action: string) => void;
  /** Default 1 MiB + 64 KiB: CMQ allows 1 MB messages plus form overhead. */
  readonly maxBodyBytes?: number;
}

export interface ProtocolServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1024 * 1024 + 64 * 1024;
// Longer than any SDK's idle pool timeout we know of, so clients see few server-side closes
// (the Python SDK re-sends a request once when its idle connection was closed under it).
const KEEP_ALIVE_MS = 65_000;

export async function createProtocolServer(
  handler: ProtocolHandler,
  options: ProtocolServerOptions,
): Promise<ProtocolServer> {
  const stopping = new AbortController();
  // Every long poll listens for the stop; that is not a leak.
  setMaxListeners(0, stopping.signal);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let inFlight = 0;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    if (path.startsWith(ADMIN_PREFIX)) {
      await serveAdmin(req, res, path, {
        faults: options.faults,
        inspect: options.inspect,
        ...(options.adminToken !== undefined ? { token: options.adminToken } : {}),
        ...(options.commit ? { commit: () => options.commit?.('admin', path) } : {}),
      });
      return;
    }
    // Most requests never look at their signal, and AbortControllers are not free: make it on demand.
    let abort: AbortController | undefined;
    const onGone = () => abort?.abort();
    const signalOf = (): AbortSignal => {
      if (abort === undefined) {
        abort = new AbortController();
        if (res.destroyed || req.socket.destroyed || stopping.signal.aborted) abort.abort();
        res.on('close', onGone);
        stopping.signal.addEventListener('abort', onGone, { once: true });
      }
      return abort.signal;
    };
    try {
      const body = await readBody(req, maxBody);
      const request: ParsedRequest = {
        method: req.method ?? 'GET',
        path,
        query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
        headers: req.headers,
        body: body.ok ? body.body : Buffer.alloc(0),
        get signal() {
          return signalOf();
        },
      };
      if (!body.ok) {
        write(res, handler.oversizedReply?.(request) ?? tooLarge(), true);
        return;
      }
      let action = 'unknown';
      try {
        action = handler.actionOf(request);
      } catch {
        // A handler that breaks its promise still gets the request served.
      }
      const decision = options.faults.decide(handler.protocol, action);
      if (decision.latencyMs > 0) {
        const signal = signalOf();
        await sleep(decision.latencyMs, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) {
          res.destroy();
          return;
        }
      }
      switch (decision.kind) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang': {
          const signal = signalOf();
          if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
          res.destroy();
          return;
        }
        case 'error':
          write(res, handler.injectedError(request, action));
          return;
        case 'lostReply':
          await handler.handle(request);
          options.commit?.(handler.protocol, action);
          req.socket.destroy();
          return;
        default: {
          const reply = await handler.handle(request);
          options.commit?.(handler.protocol, action);
          write(res, reply);
        }
      }
    } catch (error) {
      write(res, {
        status: 500,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ error: error instanceof Error ? error.message : String(error) }),
      });
    } finally {
      if (abort !== undefined) {
        res.off('close', onGone);
        stopping.signal.removeEventListener('abort', onGone);
      }
    }
  };

  const server = http.createServer((req, res) => {
    inFlight++;
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    serve(req, res).finally(() => {
      inFlight--;
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Give aborted long polls a moment to send their replies, then cut whatever is left.
        for (let waited = 0; inFlight > 0 && waited < 500; waited += 10) await sleep(10);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

function tooLarge(): HttpReply {
  return {
    status: 413,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: 'request body too large' }),
  };
}

function write(res: ServerResponse, reply: HttpReply, close = false): void {
  if (res.destroyed || res.headersSent) return;
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  const headers: Record<string, string | number> = { ...reply.headers, 'content-length': body.length };
  if (close) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(body);
  if (close) res.once('finish', () => res.socket?.destroySoon());
}
