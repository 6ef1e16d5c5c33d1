// amqps:// end to end: a TLS terminator on a random loopback port (a self-signed certificate made
// for this run) forwards to the plain RabbitMQ listener, so the driver's TLS path is exercised
// with a real handshake without reconfiguring the shared broker.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { connect } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
let server: Server;
let port: number;
let ca: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(cert, 'utf8');
  server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
    const upstream = netConnect(5672, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('rabbitmq over TLS (amqps://)', () => {
  it('sends and receives through a verified TLS connection', async () => {
    const broker = await connect({
      driver: 'rabbitmq',
      protocol: 'amqps',
      host: 'localhost',
      port,
      username: 'guest',
      password: 'guest',
      tls: { ca },
    });
    const name = `tls-${process.pid}-${Date.now()}`;
    const consumer = await broker.consumer(name, { group: 'g' });
    const producer = await broker.producer(name);
    await producer.send({ body: 'over tls', headers: { secure: 'yes' } });
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('over tls');
    expect(m?.headers.secure).toBe('yes');
    await m?.ack();
    await broker.close();
  });

  it('refuses a server certificate it cannot verify: not retryable, and says why', async () => {
    const error = (await connect({
      driver: 'rabbitmq',
      protocol: 'amqps',
      host: 'localhost',
      port,
      username: 'guest',
      password: 'guest-secret-not-shown',
      connectTimeoutMs: 5_000,
    }).catch((e: unknown) => e)) as Error & { code?: string; retryable?: boolean };
    expect(error).toBeInstanceOf(Error);
    // Retrying cannot fix a certificate that does not verify: not retryable, and it says why.
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /TLS handshake failed; check the certificate settings \(self-signed certificate\)/,
    );
    expect(error.message).not.toContain('guest-secret-not-shown');
  });
});
