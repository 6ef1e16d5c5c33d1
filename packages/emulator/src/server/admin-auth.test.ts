// The admin surface is closed: every /_emulator/* route on every HTTP port needs the emulator's
// admin token, and bodies must be JSON (a browser page can POST text/plain without a preflight).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../start.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ seed: 3 });
});
afterAll(() => emulator.stop());

const call = (base: string, path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, init).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { error?: string },
  }));

describe('admin token', () => {
  it('is random per start unless given', async () => {
    const other = await startEmulator();
    try {
      expect(other.adminToken).not.toBe(emulator.adminToken);
      expect(emulator.adminToken.length).toBeGreaterThanOrEqual(24);
    } finally {
      await other.stop();
    }
    const fixed = await startEmulator({ adminToken: 'a-fixed-admin-token-123' });
    try {
      expect(fixed.adminToken).toBe('a-fixed-admin-token-123');
    } finally {
      await fixed.stop();
    }
  });

  it.each(['cmq', 'api'] as const)(
    'is required on every route of the %s port: 401 without, 403 wrong',
    async (port) => {
      const base = emulator.endpoints[port];
      for (const [method, path] of [
        ['GET', '/_emulator/state'],
        ['GET', '/_emulator/faults'],
        ['DELETE', '/_emulator/faults'],
        ['GET', '/_emulator/rocketmq/topics'],
        ['DELETE', '/_emulator/rocketmq/topics/T'],
        ['GET', '/_emulator/nothing'],
      ] as const) {
        const none = await call(base, path, { method });
        expect(none.status, `${method} ${path}`).toBe(401);
        expect(none.body.error).toMatch(/Authorization: Bearer/);
        const wrong = await call(base, path, { method, headers: { authorization: 'Bearer not-the-token' } });
        expect(wrong.status, `${method} ${path}`).toBe(403);
        expect(JSON.stringify(wrong.body)).not.toContain(emulator.adminToken);
      }
      const ok = await call(base, '/_emulator/faults', {
        headers: { authorization: `Bearer ${emulator.adminToken}` },
      });
      expect(ok).toEqual({ status: 200, body: { seed: 3, rules: [] } });
    },
  );

  it('a fault rule sent the way a web page can (text/plain, no token) changes nothing', async () => {
    const rules = JSON.stringify({ rules: [{ protocol: '*', errorRate: 1 }] });
    const page = await call(emulator.endpoints.cmq, '/_emulator/faults', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: rules,
    });
    expect(page.status).toBe(401);
    expect(emulator.faults.settings().rules).toEqual([]);
  });

  it('bodies must be application/json (415 otherwise), even with the token', async () => {
    const auth = { authorization: `Bearer ${emulator.adminToken}` };
    const rules = JSON.stringify({ rules: [{ protocol: 'cmq', latencyMs: 1 }] });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await call(emulator.endpoints.api, '/_emulator/faults', {
        method: 'PUT',
        headers: { ...auth, 'content-type': type },
        body: rules,
      });
      expect(r.status, type).toBe(415);
      expect(r.body.error).toMatch(/application\/json/);
    }
    const topic = await call(emulator.endpoints.api, '/_emulator/rocketmq/topics/T', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(topic.status).toBe(415);
    expect(emulator.engines.rocketmq.getTopic('T')).toBeUndefined();
    expect(emulator.faults.settings().rules).toEqual([]);
    const json = await call(emulator.endpoints.api, '/_emulator/faults', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      body: rules,
    });
    expect(json.status).toBe(200);
    expect(emulator.faults.settings().rules).toHaveLength(1);
    emulator.faults.clear();
  });
});
