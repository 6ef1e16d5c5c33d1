// Test helpers: an in-process emulator with a distinctive credential, and broker configs pointing
// the driver at it (data plane and management).

import { type BrokerConfig, connect } from '@switchyard/core';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '@switchyard/emulator';
import type { CmqConfigInput } from '../src/config.js';

export const TEST_SECRET_ID = 'AKIDswitchyardCmqTest';
export const TEST_SECRET_KEY = 'cmq-test-secret-Zq7vX2pL9';

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({
    credentials: [{ secretId: TEST_SECRET_ID, secretKey: TEST_SECRET_KEY }],
    cmq: { recreateGuardSeconds: 0, ...options.cmq },
    ...options,
  });
}

export function emulatorConfig(
  emulator: RunningEmulator,
  extra: Partial<CmqConfigInput> = {},
): BrokerConfig & CmqConfigInput {
  return {
    driver: 'cmq',
    endpoint: emulator.endpoints.cmq,
    managementEndpoint: emulator.endpoints.api,
    region: 'ap-guangzhou',
    secretId: TEST_SECRET_ID,
    secretKey: TEST_SECRET_KEY,
    ...extra,
  };
}

export function connectTo(emulator: RunningEmulator, extra: Partial<CmqConfigInput> = {}) {
  return connect(emulatorConfig(emulator, extra));
}
