import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

function example(path: string) {
  const env = { ...process.env };
  delete env.SWITCHYARD_URL;
  return run('npx', ['tsx', '--conditions=switchyard-source', path], { env, timeout: 60_000 });
}

describe('CMQ examples (against the in-process emulator)', () => {
  it('examples/cmq-queue: send, receive, delete; exits 0', async () => {
    const { stdout } = await example('examples/cmq-queue/main.ts');
    expect(stdout).toContain('connected: cmq (queue model, local emulator)');
    expect(stdout).toContain('sent 3 messages in one BatchSendMessage');
    for (const body of ['hello, CMQ', 'order-1', 'order-2', 'order-3'])
      expect(stdout).toContain(`received and deleted: ${body} (dequeue count 1)`);
    expect(stdout).toContain('closed cleanly');
  });

  it('examples/cmq-topic: tag and routing-key subscriptions get exactly their messages; exits 0', async () => {
    const { stdout } = await example('examples/cmq-topic/main.ts');
    const lines = stdout.split('\n');
    expect(lines).toContain('quickstart-tag-topic / tag1-only: message tagged TAG1');
    expect(lines).toContain('quickstart-tag-topic / tag-or-tag2: message tagged TAG, message tagged TAG2');
    expect(lines).toContain(
      'quickstart-tag-topic / everything: message tagged TAG, message tagged TAG1, message tagged TAG2',
    );
    expect(lines).toContain('quickstart-route-topic / a-b-any: a.b.c, a.b.x');
    expect(lines).toContain('quickstart-route-topic / x-anything: x.y.c, x.y.z');
    expect(lines).toContain('quickstart-route-topic / ends-c: a.b.c, x.y.c');
    expect(lines).toContain('quickstart-route-topic / exact: a.c.d');
    expect(stdout).not.toContain('unexpected');
    expect(stdout).toContain('closed cleanly');
  });
});
