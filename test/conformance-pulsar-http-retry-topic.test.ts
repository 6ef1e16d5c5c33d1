// The conformance suite through the Pulsar HTTP driver in the opt-in nackMode 'retry-topic' (nack
// copies to the group's retry topic; the driver keeps a per-consumer visibility timeout; the
// delivery count travels in the copy), raw and envelope mode, by URL. The emulator keeps the real
// API's default ack timeout: nothing here may depend on it. Every credential is the file's
// sentinel secret (sentinelLeakCheck).

import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { pulsarHttpCapabilities } from '@switchyard/pulsar-http';
import { pulsarHttpNative, startPulsarHttpEnv, urlHarness } from './pulsar-http-support.js';
import { recordConformancePoison } from './reliability-report.js';

const leaks = sentinelLeakCheck('pulsar-http conformance, retry-topic nack mode');
const SECRET_KEY = leaks.sentinel.value;
const WRONG_KEY = leaks.sentinel.another('wrong');

for (const mode of ['raw', 'envelope'] as const) {
  runConformance({
    onPoison: recordConformancePoison,
    name: `pulsar-http (${mode} mode, nackMode retry-topic)`,
    leakCheck: leaks,
    // The service patterns run in conformance-pulsar-http (both modes); here only the nack mode differs.
    patterns: false,
    capabilities: pulsarHttpCapabilities({ mode, nackMode: 'retry-topic' }),
    harness: async () => {
      const env = await startPulsarHttpEnv({
        namespace: 'conformance',
        retention: true,
        secretKey: SECRET_KEY,
      });
      return urlHarness(env, { mode, nackMode: 'retry-topic', receiveWaitMs: '200' }, leaks, WRONG_KEY);
    },
    native: pulsarHttpNative,
  });
}
