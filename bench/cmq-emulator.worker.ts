// Runs the CMQ emulator on its own thread for bench/cmq.ts, so the clients being measured and the
// server answering them do not share one event loop.

import { parentPort } from 'node:worker_threads';
import { startEmulator } from '@switchyard/emulator';

const emulator = await startEmulator({ cmq: { recreateGuardSeconds: 0 } });
parentPort?.postMessage({ cmq: emulator.endpoints.cmq, credentials: emulator.credentials });
parentPort?.on('message', async (message: unknown) => {
  if (message === 'stop') {
    await emulator.stop();
    parentPort?.postMessage('stopped');
  }
});
