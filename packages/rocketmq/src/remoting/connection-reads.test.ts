// Every Remoting connection's socket reads go through the same callback, not a closure per
// connection: closures made per connection lost their optimized code when their connection closed
// (each consumer has connections of its own), and the next connection's reads ran unoptimized
// again (docs/bench-profiles.md §28, remoting). Each connection still gets its own replies.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeCommand, FrameDecoder, request, response } from '@switchyard/rocketmq-remoting';
import { afterAll, expect, it, vi } from 'vitest';
import { RemotingConnection } from './connection.js';

// The real net.connect, recording the onread option each connection gives it.
const onreads = vi.hoisted(() => [] as { buffer: unknown; callback: unknown }[]);
vi.mock('node:net', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:net')>();
  const connect = ((options: { onread?: { buffer: unknown; callback: unknown } }) => {
    if (options.onread !== undefined) onreads.push(options.onread);
    return real.connect(options as Parameters<typeof real.connect>[0]);
  }) as typeof real.connect;
  return { ...real, connect };
});

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A peer answering each request with its topic field echoed. */
async function echo(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      for (const req of decoder.push(chunk))
        socket.write(encodeCommand(response(req, 0, { echo: req.extFields.topic })));
    });
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

it('reads every connection through one callback, each connection getting its own replies', async () => {
  const address = await echo();
  const events = { onRequest: () => undefined, onClose: () => undefined };
  const connections = await Promise.all([0, 1, 2].map(() => RemotingConnection.open(address, 5_000, events)));
  try {
    const replies = await Promise.all(
      connections.map((c, i) => c.invoke(request(11, { topic: `t${i}` }), 5_000, 'echo')),
    );
    expect(replies.map((r) => r.extFields.echo)).toEqual(['t0', 't1', 't2']);
  } finally {
    for (const c of connections) c.close('test over');
  }
  expect(onreads).toHaveLength(3);
  for (const onread of onreads) expect(onread.callback).toBe(onreads[0]!.callback);
});
