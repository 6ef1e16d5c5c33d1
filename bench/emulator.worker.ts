// Runs the TDMQ emulator on its own thread for the benches, so the clients being measured and the
// server answering them do not share one event loop (on two cores a shared loop would halve what
// we measure and hide what pipelining gains).

import { parentPort } from 'node:worker_threads';
import { startEmulator } from '@switchyard/emulator';

const emulator = await startEmulator({ cmq: { recreateGuardSeconds: 0 } });
parentPort?.postMessage({ endpoints: emulator.endpoints, credentials: emulator.credentials });
parentPort?.on('message', async (message: unknown) => {
  if (message === 'stop') {
    await emulator.stop();
    parentPort?.postMessage('stopped');
  }
});
