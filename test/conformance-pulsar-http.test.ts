// The conformance suite through the Pulsar HTTP driver against the emulator's Cloud API, raw and
// envelope mode. Every credential is the file's sentinel secret (sentinelLeakCheck): the SecretKey
// the session token (X-TC-Token) and the Pulsar role token (StringToken on sends), and a further
// sentinel as a wrong SecretKey; every output line, log call, status event and caught error is
// searched for it.

import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { envelopeCapabilities, rawCapabilities } from '@switchyard/pulsar-http';
import { emulatorOutage } from './emulator-outage.js';
import { pulsarHttpNative, startPulsarHttpEnv } from './pulsar-http-support.js';
import { recordConformancePoison } from './reliability-report.js';

const leaks = sentinelLeakCheck('pulsar-http conformance');
const SECRET_KEY = leaks.sentinel.value;
const SESSION_TOKEN = leaks.sentinel.another('session-token');
const WRONG_KEY = leaks.sentinel.another('wrong');
const ROLE_TOKEN = leaks.sentinel.another('role-token');
// Default nackMode 'ack-timeout': a nacked or failed message returns only when the topic's ack
// timeout expires (TDMQ: ≥ 60 s). The emulator's is shortened so the redelivery scenarios finish;
// long enough that a message waiting in a prefetch buffer is not redelivered meanwhile.
const ACK_TIMEOUT_MS = 3_000;

for (const mode of ['raw', 'envelope'] as const) {
  runConformance({
    onPoison: recordConformancePoison,
    name: `pulsar-http (${mode} mode)`,
    leakCheck: leaks,
    capabilities: mode === 'raw' ? rawCapabilities : envelopeCapabilities,
    // Redelivery comes from the topic's ack timeout: quiet periods and waits must outlast it.
    minVisibilityMs: ACK_TIMEOUT_MS,
    harness: async () => {
      const env = await startPulsarHttpEnv({
        namespace: 'conformance',
        retention: true,
        secretKey: SECRET_KEY,
        ackTimeoutMs: ACK_TIMEOUT_MS,
      });
      const config = (secretKey: string) =>
        env.config({
          mode,
          receiveWaitMs: 200,
          secretKey,
          sessionToken: SESSION_TOKEN,
          token: ROLE_TOKEN,
          logger: leaks.logger,
        });
      return {
        connect: () => connect(config(SECRET_KEY)),
        connectWithWrongCredentials: () => connect(config(WRONG_KEY)),
        createDestination: (name) => env.createTopic(name),
        secrets: [env.secretKey, SESSION_TOKEN, ROLE_TOKEN, WRONG_KEY],
        restart: () => emulatorOutage(env.emulator, 'api'),
        close: () => env.close(),
      };
    },
    native: pulsarHttpNative,
  });
}
