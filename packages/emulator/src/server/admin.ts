// `/_emulator/*` on every port: read and set faults, dump engine state. JSON in, JSON out; a bad
// fault document is a 400 naming the field.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from '../faults/injector.js';
import { FaultConfigError } from '../faults/rules.js';
import { readBody } from './body.js';

export const ADMIN_PREFIX = '/_emulator/';
const MAX_ADMIN_BODY = 1024 * 1024;

export interface AdminContext {
  readonly faults: Faults;
  readonly inspect: () => unknown;
}

/** Extra admin routes a protocol serves under `/_emulator/<prefix>` (e.g. RocketMQ topics). */
export interface AdminRoute {
  /** Path prefix, e.g. `/_emulator/rocketmq`. */
  readonly prefix: string;
  /** Serve one request; `body` is the parsed JSON body of a PUT/POST ({} when empty). */
  handle(method: string, path: string, body: unknown): { status: number; body: unknown };
}

const ROUTES = Symbol('adminRoutes');
type InspectWithRoutes = (() => unknown) & { [ROUTES]?: readonly AdminRoute[] };

/**
 * Attach extra routes to the inspect function every protocol server already receives, so they
 * are served on every HTTP port without changing the server plumbing.
 */
export function withAdminRoutes(inspect: () => unknown, routes: readonly AdminRoute[]): () => unknown {
  const wrapped: InspectWithRoutes = () => inspect();
  wrapped[ROUTES] = routes;
  return wrapped;
}

export async function serveAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  context: AdminContext,
): Promise<void> {
  const method = req.method ?? 'GET';
  try {
    if (path === '/_emulator/faults') {
      if (method === 'GET') return send(res, 200, context.faults.settings());
      if (method === 'DELETE') {
        context.faults.clear();
        return send(res, 200, context.faults.settings());
      }
      if (method === 'PUT' || method === 'POST') {
        const body = await readBody(req, MAX_ADMIN_BODY);
        if (!body.ok) return send(res, 413, { error: 'body: larger than 1 MiB' }, true);
        let doc: unknown;
        try {
          doc = JSON.parse(body.body.toString('utf8'));
        } catch {
          return send(res, 400, { error: 'body: not valid JSON', field: 'body' });
        }
        context.faults.configure(doc);
        return send(res, 200, context.faults.settings());
      }
      return send(res, 405, { error: `method ${method} not allowed; use GET, PUT, POST or DELETE` });
    }
    if (path === '/_emulator/state') {
      if (method !== 'GET') return send(res, 405, { error: `method ${method} not allowed; use GET` });
      return send(res, 200, context.inspect());
    }
    for (const route of (context.inspect as InspectWithRoutes)[ROUTES] ?? []) {
      if (path !== route.prefix && !path.startsWith(`${route.prefix}/`)) continue;
      let parsed: unknown;
      if (method === 'PUT' || method === 'POST') {
        const body = await readBody(req, MAX_ADMIN_BODY);
        if (!body.ok) return send(res, 413, { error: 'body: larger than 1 MiB' }, true);
        const text = body.body.toString('utf8').trim();
        try {
          parsed = text === '' ? {} : JSON.parse(text);
        } catch {
          return send(res, 400, { error: 'body: not valid JSON', field: 'body' });
        }
      }
      const reply = route.handle(method, path, parsed);
      return send(res, reply.status, reply.body);
    }
    return send(res, 404, { error: `no admin route ${path}; try /_emulator/faults or /_emulator/state` });
  } catch (error) {
    if (error instanceof FaultConfigError)
      return send(res, 400, { error: error.message, field: error.field });
    return send(res, 500, { error: error instanceof Error ? error.message : String(error) });
  }
}

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}
