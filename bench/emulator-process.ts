import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions } from '@switchyard/emulator';

export interface EmulatorProcess {
  readonly endpoints: { readonly cmq: string; readonly api: string; readonly rocketmq: string };
  readonly credentials: ReadonlyArray<{ readonly secretId: string; readonly secretKey: string }>;
  /** Creates a RocketMQ topic (MIXED) in the emulator's engine. */
  /** A MIXED RocketMQ topic (default 1 queue; Remoting members share a topic by its queues). */
  rocketmqTopic(name: string, queues?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Node flags that let a child run this repository's TypeScript sources. */
export const TS_CHILD_ARGV = ['--import', 'tsx', '--conditions=switchyard-source'];

function reply(child: ChildProcess, done: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`emulator child exited (${code}) before "${done}"`));
    };
    const onMessage = (m: { done?: string }) => {
      if (m.done !== done) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve();
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Starts the emulator in a child process (see emulator.child.ts) and waits until it listens. Its
 * CPU is then not the bench process's, so cpuUsage() deltas are the client's cost alone.
 */
export async function startEmulatorProcess(options: EmulatorOptions = {}): Promise<EmulatorProcess> {
  const child = fork(
    fileURLToPath(new URL('./emulator.child.ts', import.meta.url)),
    [JSON.stringify(options)],
    {
      execArgv: TS_CHILD_ARGV,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const started = await new Promise<Pick<EmulatorProcess, 'endpoints' | 'credentials'>>((resolve, reject) => {
    child.once('message', resolve as (m: unknown) => void);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`emulator child exited (${code}) before listening`)));
  });
  return {
    ...started,
    async rocketmqTopic(name, queues) {
      const done = reply(child, name);
      child.send({ op: 'rocketmqTopic', name, queues });
      await done;
    },
    async stop() {
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.send({ op: 'stop' });
      await done;
    },
  };
}
