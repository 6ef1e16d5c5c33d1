// The conformance suite through the native Pulsar driver (@switchyard/pulsar on pulsar-client),
// against a real Pulsar named by SWITCHYARD_PULSAR_URL. pulsar-client is a native addon these CI
// machines cannot install, and no Pulsar runs here, so without the variable the suite is one
// visibly skipped test (counted in Vitest's skipped total), never a silent pass. To run it:
//   docker run -d -p 6650:6650 -p 8080:8080 apachepulsar/pulsar bin/pulsar standalone
//   npm install --no-save pulsar-client
//   SWITCHYARD_PULSAR_URL=pulsar://localhost:6650 npx vitest run test/conformance-pulsar-native.test.ts
// Topics are created on first use (the standalone's allowAutoTopicCreation), so the harness has no
// nonexistent destination to offer. Add ?subscriptionType=KeyShared (or Failover) to the URL to
// run the ordered profiles; ?cluster=&namespace= pick the tenant and namespace (public/default).

import { runConformance } from '@switchyard/conformance';
import { type Broker, connect } from '@switchyard/core';
import { capabilitiesFor, fromUrl, MIN_ACK_TIMEOUT_MS, type PulsarNative } from '@switchyard/pulsar';
import { it } from 'vitest';
import { recordConformancePoison } from './reliability-report.js';

const url = process.env.SWITCHYARD_PULSAR_URL;

if (url === undefined || url === '') {
  it.skip('conformance: pulsar (native) — needs SWITCHYARD_PULSAR_URL and pulsar-client (see packages/pulsar/README.md)', () => {});
} else {
  const config = fromUrl(new URL(url));
  runConformance({
    onPoison: recordConformancePoison,
    name: `pulsar (native, ${config.subscriptionType}, ${config.serviceUrl})`,
    capabilities: capabilitiesFor(config),
    // The client's ack timeout cannot be shorter.
    minVisibilityMs: MIN_ACK_TIMEOUT_MS,
    // A Failover (or Exclusive) subscription has one active consumer per group.
    activeConsumersPerGroup: config.subscriptionType === 'Failover' ? 'one' : 'all',
    harness: async () => {
      const brokers: Broker[] = [];
      return {
        connect: async () => {
          const broker = await connect(url);
          brokers.push(broker);
          return broker;
        },
        // Auto-created on first use; a stock standalone allows it.
        createDestination: async () => {},
        secrets: config.token === undefined ? [] : [config.token.reveal()],
        close: async () => {
          await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
        },
      };
    },
    native: {
      broker: (native) => typeof (native as PulsarNative).qualify === 'function',
      message: (native) => typeof (native as { getMessageId?: unknown }).getMessageId === 'function',
    },
  });
}
