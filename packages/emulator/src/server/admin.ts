// `/_emulator/*` on every port: read and set faults, dump engine state. JSON in, JSON out; a bad
// fault document is a 400 naming the field.
//
// These routes dump message bodies, delete topics and break every request with a fault rule, and
// they share ports with APIs a browser page may reach. So every request needs the admin token as
// `Authorization: Bearer <token>` (a page cannot add that header without a CORS preflight, which
// we never answer), and a body must be declared `application/json` (a page can POST `text/plain`
// without a preflight; 415 for anything else).

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from '../faults/injector.js';
import { FaultConfigError } from '../faults/rules.js';
import { readBody } from './body.js';

export const ADMIN_PREFIX = '/_emulator/';
const MAX_ADMIN_BODY = 1024 * 1024;

export interface AdminContext {
  readonly faults: Faults;
  readonly inspect: () => unknown;
  /** Required as `Authorization: Bearer <token>`; undefined = open (in-process servers in unit tests). */
  readonly token?: string;
  /** Makes a changing request's effects durable before its reply (the `--state` journal). */
  readonly commit?: () => void;
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
  if (context.token !== undefined) {
    const denied = checkToken(req.headers.authorization, context.token);
    if (denied !== undefined) {
      // Unread request bodies would otherwise sit in the keep-alive connection.
      req.resume();
      return send(res, denied.status, { error: denied.error }, true);
    }
  }
  if ((method === 'PUT' || method === 'POST') && !isJson(req.headers['content-type'])) {
    req.resume();
    return send(
      res,
      415,
      {
        error: `content-type ${req.headers['content-type'] ?? '(none)'} not accepted; send the body as application/json`,
      },
      true,
    );
  }
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
      if (method !== 'GET') context.commit?.();
      return send(res, reply.status, reply.body);
    }
    return send(res, 404, { error: `no admin route ${path}; try /_emulator/faults or /_emulator/state` });
  } catch (error) {
    if (error instanceof FaultConfigError)
      return send(res, 400, { error: error.message, field: error.field });
    return send(res, 500, { error: error instanceof Error ? error.message : String(error) });
  }
}

function checkToken(
  header: string | undefined,
  token: string,
): { status: number; error: string } | undefined {
  const missing =
    'admin routes need the emulator admin token: send Authorization: Bearer <token> ' +
    '(the token is "adminToken" in the emulator\'s ready line, or RunningEmulator.adminToken)';
  if (header === undefined || header === '') return { status: 401, error: missing };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) return { status: 401, error: missing };
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return {
      status: 403,
      error:
        "admin token does not match this emulator's; it changes at every start unless --admin-token sets it",
    };
  return undefined;
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || (type?.startsWith('application/') === true && type.endsWith('+json'));
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
