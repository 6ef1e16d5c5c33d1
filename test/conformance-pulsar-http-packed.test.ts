import { runConformance } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { packedCapabilities } from '@switchyard/pulsar-http';
import { beforeEach } from 'vitest';
import { startPulsarHttpEnv } from './pulsar-http-support.js';

// Envelope mode with packing (several messages per Pulsar message): its own file so it runs in
// parallel with the raw and envelope suites.
const PACK = 50;

// One send of 40 messages is one pack, and a pack goes to one consumer: competing consumers share
// packs, not the messages inside them. That is the documented price of packing (README), so this
// one scenario is skipped here, visibly.
beforeEach((context) => {
  if (context.task.name === 'competing consumers in one group get each message once') context.skip();
});

runConformance({
  name: `pulsar-http (envelope mode, pack ${PACK})`,
  capabilities: packedCapabilities(PACK),
  harness: async () => {
    const env = await startPulsarHttpEnv({ namespace: 'conformance', retention: true });
    return {
      connect: () => connect(env.url({ mode: 'envelope', pack: String(PACK), receiveWaitMs: '200' })),
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
