// HTTP admin routes for RocketMQ topics and groups, served on every HTTP port of the emulator
// under `/_emulator/rocketmq` (the real service wants topics and groups created in the console
// first; tests and the driver's conformance harness create them here). Names are full names
// (`ns%topic` for a namespaced one), URL-encoded in the path.

import type { AdminRoute } from '../server/admin.js';
import type { RocketMqEngine } from './engine.js';
import type { GroupConfig, TopicConfig } from './model.js';
import { checkGroupName, checkTopicName } from './names.js';
import { RocketMqError } from './statuses.js';

const PREFIX = '/_emulator/rocketmq';

type Reply = { status: number; body: unknown };

export function rocketMqAdminRoutes(engine: RocketMqEngine): AdminRoute[] {
  return [{ prefix: PREFIX, handle: (method, path, body) => handle(engine, method, path, body) }];
}

function handle(engine: RocketMqEngine, method: string, path: string, body: unknown): Reply {
  const parts = path
    .slice(PREFIX.length)
    .split('/')
    .filter((p) => p !== '');
  let segments: string[];
  try {
    segments = parts.map((p) => decodeURIComponent(p));
  } catch {
    return { status: 400, body: { error: 'path: bad percent-encoding' } };
  }
  const [kind, name, sub] = segments;
  try {
    if (kind === undefined) {
      if (method !== 'GET') return notAllowed(method, 'GET');
      return { status: 200, body: engine.inspect() };
    }
    if (kind === 'settings') {
      if (method === 'GET') return { status: 200, body: { autoCreate: engine.autoCreate } };
      if (method !== 'PUT' && method !== 'POST') return notAllowed(method, 'GET, PUT, POST');
      const doc = object(body);
      if (doc.autoCreate !== undefined && typeof doc.autoCreate !== 'boolean')
        return bad('autoCreate', 'must be a boolean');
      if (typeof doc.autoCreate === 'boolean') engine.autoCreate = doc.autoCreate;
      return { status: 200, body: { autoCreate: engine.autoCreate } };
    }
    if (kind === 'topics') {
      if (name === undefined) {
        if (method !== 'GET') return notAllowed(method, 'GET');
        return { status: 200, body: engine.listTopics() };
      }
      if (sub === 'messages') {
        if (method !== 'GET') return notAllowed(method, 'GET');
        if (!engine.getTopic(name)) return notFound('topic', name);
        return {
          status: 200,
          body: engine.messages(name).map((m) => ({ ...m, body: m.body.toString('base64') })),
        };
      }
      if (sub !== undefined) return { status: 404, body: { error: `no admin route ${path}` } };
      if (method === 'GET')
        return engine.getTopic(name) ? { status: 200, body: engine.getTopic(name) } : notFound('topic', name);
      if (method === 'DELETE')
        return engine.deleteTopic(name) ? { status: 200, body: { deleted: name } } : notFound('topic', name);
      if (method !== 'PUT' && method !== 'POST') return notAllowed(method, 'GET, PUT, POST, DELETE');
      checkTopicName(name);
      const doc = object(body);
      for (const k of Object.keys(doc)) if (k !== 'type' && k !== 'queues') return bad(k, 'unknown field');
      return { status: 200, body: engine.createTopic(name, doc as Partial<TopicConfig>) };
    }
    if (kind === 'groups') {
      if (name === undefined) {
        if (method !== 'GET') return notAllowed(method, 'GET');
        return { status: 200, body: engine.listGroups() };
      }
      if (sub !== undefined) return { status: 404, body: { error: `no admin route ${path}` } };
      if (method === 'GET')
        return engine.getGroup(name) ? { status: 200, body: engine.getGroup(name) } : notFound('group', name);
      if (method === 'DELETE')
        return engine.deleteGroup(name) ? { status: 200, body: { deleted: name } } : notFound('group', name);
      if (method !== 'PUT' && method !== 'POST') return notAllowed(method, 'GET, PUT, POST, DELETE');
      checkGroupName(name);
      const doc = object(body);
      const known = ['fifo', 'maxDeliveryAttempts', 'retryPolicy', 'startFrom'];
      for (const k of Object.keys(doc)) if (!known.includes(k)) return bad(k, 'unknown field');
      return { status: 200, body: engine.createGroup(name, doc as Partial<GroupConfig>) };
    }
    return {
      status: 404,
      body: { error: `no admin route ${path}; try ${PREFIX}/topics or ${PREFIX}/groups` },
    };
  } catch (error) {
    if (error instanceof RocketMqError)
      return { status: 400, body: { error: error.message, code: error.code } };
    throw error;
  }
}

function object(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new RocketMqError('BAD_REQUEST', 'body: must be a JSON object');
  return body as Record<string, unknown>;
}

const notAllowed = (method: string, allowed: string): Reply => ({
  status: 405,
  body: { error: `method ${method} not allowed; use ${allowed}` },
});
const notFound = (what: string, name: string): Reply => ({
  status: 404,
  body: { error: `${what} ${name} does not exist` },
});
const bad = (field: string, message: string): Reply => ({
  status: 400,
  body: { error: `${field}: ${message}`, field },
});
