import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { packedCapabilities } from '@switchyard/pulsar-http';
import { beforeEach } from 'vitest';
import { pulsarHttpNative, startPulsarHttpEnv, urlHarness } from './pulsar-http-support.js';
import { recordConformancePoison } from './reliability-report.js';

// Envelope mode with packing (several messages per Pulsar message): its own file so it runs in
// parallel with the raw and envelope suites.
const PACK = 50;

// This file connects by URL, so the sentinel secret (sentinelLeakCheck: every output line, status
// event and caught error is searched for it) goes through URL decoding: the SecretKey in the
// userinfo, percent-encoded (it holds `%`, quotes and a backslash); the capture's logger goes in
// connect()'s options, which a URL cannot carry.
const leaks = sentinelLeakCheck('pulsar-http conformance, packed, by URL');
const SECRET_KEY = leaks.sentinel.value;
const WRONG_KEY = leaks.sentinel.another('wrong');

// One send of 40 messages is one pack, and a pack goes to one consumer: competing consumers share
// packs, not the messages inside them. That is the documented price of packing (README), so this
// one scenario is skipped here, visibly. Packing defaults to nackMode 'retry-topic' (members are
// nacked one by one), which this file runs.
beforeEach((context) => {
  if (context.task.name === 'competing consumers in one group get each message once') context.skip();
});

runConformance({
  onPoison: recordConformancePoison,
  name: `pulsar-http (envelope mode, pack ${PACK})`,
  leakCheck: leaks,
  // The service patterns run in conformance-pulsar-http; here only the send packing differs.
  patterns: false,
  capabilities: packedCapabilities(PACK),
  harness: async () => {
    const env = await startPulsarHttpEnv({
      namespace: 'conformance',
      retention: true,
      secretKey: SECRET_KEY,
    });
    return urlHarness(env, { mode: 'envelope', pack: String(PACK), receiveWaitMs: '200' }, leaks, WRONG_KEY);
  },
  native: pulsarHttpNative,
});
