import { runConformance } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { envelopeCapabilities, rawCapabilities } from '@switchyard/pulsar-http';
import { startPulsarHttpEnv } from './pulsar-http-support.js';

for (const mode of ['raw', 'envelope'] as const) {
  runConformance({
    name: `pulsar-http (${mode} mode)`,
    capabilities: mode === 'raw' ? rawCapabilities : envelopeCapabilities,
    harness: async () => {
      const env = await startPulsarHttpEnv({ namespace: 'conformance', retention: true });
      return {
        connect: () => connect(env.url({ mode, receiveWaitMs: '200' })),
        createDestination: (name) => env.createTopic(name),
        secrets: [env.secretKey],
        close: () => env.close(),
      };
    },
    native: {
      broker: (native) => typeof (native as { ReceiveMessage?: unknown })?.ReceiveMessage === 'function',
      message: (native) => typeof (native as { messageId?: unknown })?.messageId === 'string',
    },
  });
}
