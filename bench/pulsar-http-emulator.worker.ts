// Runs the TDMQ emulator on its own thread for bench/pulsar-http.ts, so the client being measured
// and the server answering it do not share one event loop (on two cores a shared loop would halve
// what we measure and hide what pipelining gains).

import { parentPort } from 'node:worker_threads';
import { startEmulator } from '@switchyard/emulator';

const emulator = await startEmulator();
parentPort?.postMessage({ api: emulator.endpoints.api, credentials: emulator.credentials });
parentPort?.on('message', async (message: unknown) => {
  if (message === 'stop') {
    await emulator.stop();
    parentPort?.postMessage('stopped');
  }
});
