// The connection pool against real TCP peers that misbehave: one that never answers, one that
// answers garbage, and a port nobody listens on.
import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, Secret, type SwitchyardError } from '@switchyard/core/driver';
import { encodeCommand, FrameDecoder, response, verifyRequest } from '@switchyard/rocketmq-remoting';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionPool } from './pool.js';

const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
const servers: Server[] = [];
const pools: ConnectionPool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(onData: (socket: Socket, chunk: Buffer) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => onData(socket, chunk));
    socket.on('error', quiet);
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return `127.0.0.1:${address.port}`;
}

/** The rejection of a call that must fail. */
async function failure(call: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await call;
  } catch (error) {
    return error as SwitchyardError;
  }
  throw new Error('the call succeeded');
}

function pool(requestTimeoutMs = 300, credentials?: { accessKey: Secret; secretKey: Secret }) {
  const p = new ConnectionPool({
    credentials,
    securityToken: undefined,
    requestTimeoutMs,
    logger,
    onRequest: quiet,
  });
  pools.push(p);
  return p;
}

describe('ConnectionPool', () => {
  it('signs every request and matches replies by opaque', async () => {
    const decoder = new FrameDecoder();
    let verified = false;
    const address = await serve((socket, chunk) => {
      for (const req of decoder.push(chunk)) {
        verified = verifyRequest(req.extFields, req.body, 'role-name');
        socket.write(encodeCommand(response(req, 0, { echo: req.extFields.topic })));
      }
    });
    const p = pool(1_000, { accessKey: new Secret('role-token'), secretKey: new Secret('role-name') });
    const replies = await Promise.all(
      ['a', 'b', 'c'].map((topic) => p.call(address, 105, { topic }, undefined, 'route')),
    );
    expect(replies.map((r) => r.extFields.echo)).toEqual(['a', 'b', 'c']);
    expect(verified).toBe(true);
  });

  it('times out a request nobody answers, retryably', async () => {
    const address = await serve(quiet);
    const error = await failure(pool(200).call(address, 105, { topic: 't' }, undefined, 'route lookup'));
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT, retryable: true });
    expect(error.message).toMatch(/route lookup.*within 200 ms/);
  });

  it('drops a connection that sends a corrupt frame and opens a new one for the next call', async () => {
    let connections = 0;
    const decoder = new FrameDecoder();
    const address = await serve((socket, chunk) => {
      for (const req of decoder.push(chunk)) {
        if (req.extFields.topic === 'bad') socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
        else socket.write(encodeCommand(response(req, 0)));
      }
    });
    servers[0]!.on('connection', () => connections++);
    const p = pool(1_000);
    const error = await failure(p.call(address, 105, { topic: 'bad' }, undefined, 'route'));
    expect(error).toMatchObject({ code: ErrorCode.UNAVAILABLE, retryable: true });
    expect(error.message).toMatch(/corrupt Remoting frame/);
    const ok = await p.call(address, 105, { topic: 'good' }, undefined, 'route');
    expect(ok.code).toBe(0);
    expect(connections).toBe(2);
  });

  it('reports an unreachable broker as UNAVAILABLE and backs off before trying again', async () => {
    const address = await serve(quiet);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const p = pool(100);
    const first = await failure(p.call(address, 105, {}, undefined, 'route'));
    expect(first.code).toBe(ErrorCode.UNAVAILABLE);
    // Attempts after a failure wait out a backoff; one longer than the call's timeout fails at once.
    const failures: SwitchyardError[] = [];
    for (let i = 0; i < 8; i++) {
      failures.push(await failure(p.call(address, 105, {}, undefined, 'route')));
    }
    expect(failures.every((f) => f.code === ErrorCode.UNAVAILABLE)).toBe(true);
    expect(
      failures.some((f) => /unreachable \(\d+ failed connection attempts\); retrying in/.test(f.message)),
    ).toBe(true);
  });
});
