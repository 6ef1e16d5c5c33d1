// A broker outage for the conformance suite's reconnect scenario on the emulator-backed flavours:
// every request of one protocol has its connection reset until the clients have really met the
// outage (resets counted by the emulator), then the emulator serves normally again.

import type { RunningEmulator } from '@switchyard/emulator';

export async function emulatorOutage(
  emulator: RunningEmulator,
  protocol: 'cmq' | 'api' | 'rocketmq',
  resets = 3,
): Promise<void> {
  const count = () =>
    Object.entries(emulator.faults.stats())
      .filter(([key]) => key.startsWith(`${protocol}:`) && key.endsWith(':reset'))
      .reduce((sum, [, n]) => sum + n, 0);
  const before = count();
  emulator.faults.setRule({ protocol, action: '*', resetRate: 1 });
  try {
    // The consumer's long polls hit the outage on their own within a poll interval; polling the
    // emulator's own counter is waiting for that event, with a deadline in case nothing calls.
    const deadline = Date.now() + 30_000;
    while (count() - before < resets) {
      if (Date.now() > deadline) throw new Error(`no ${protocol} request met the outage within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    emulator.faults.setRule({ protocol, action: '*', resetRate: 0 });
  }
}

/**
 * Takes one protocol of the emulator away until the returned function is called: every request's
 * connection is reset, as when the endpoint is down (the health scenario's outage).
 */
export async function emulatorDown(
  emulator: RunningEmulator,
  protocol: 'cmq' | 'api' | 'rocketmq',
): Promise<() => Promise<void>> {
  emulator.faults.setRule({ protocol, action: '*', resetRate: 1 });
  return async () => {
    emulator.faults.setRule({ protocol, action: '*', resetRate: 0 });
  };
}
