import { Worker } from 'node:worker_threads';

export interface EmulatorThread {
  readonly endpoints: { readonly cmq: string; readonly api: string; readonly rocketmq: string };
  readonly credentials: ReadonlyArray<{ readonly secretId: string; readonly secretKey: string }>;
  stop(): Promise<void>;
}

/** Starts the emulator on a worker thread (see emulator.worker.ts) and waits until it listens. */
export async function startEmulatorThread(): Promise<EmulatorThread> {
  const worker = new Worker(new URL('./emulator.worker.mjs', import.meta.url), {
    execArgv: ['--conditions=switchyard-source'],
  });
  const started = await new Promise<Omit<EmulatorThread, 'stop'>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    ...started,
    async stop() {
      const stopped = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}
