import { runConformance } from '@switchyard/conformance';
import { connect, type MemoryStore, memoryCapabilities, minimalMemoryCapabilities } from '@switchyard/core';
import { recordConformancePoison } from './reliability-report.js';

for (const profile of ['full', 'minimal'] as const) {
  runConformance({
    onPoison: recordConformancePoison,
    name: `memory (${profile} profile)`,
    capabilities: profile === 'full' ? memoryCapabilities : minimalMemoryCapabilities,
    harness: async () => {
      const storeName = `conformance-${profile}-${process.pid}`;
      const broker = await connect({ driver: 'memory', name: storeName, autoCreate: false, profile });
      const store = broker.unwrap<MemoryStore>();
      return {
        connect: () =>
          connect({
            driver: 'memory',
            name: storeName,
            autoCreate: false,
            profile,
            visibilityTimeoutMs: 30_000,
          }),
        createDestination: async (name) => store.createTopic(name),
        deleteDestination: async (name) => store.deleteTopic(name),
        nonexistentDestination: () => 'does-not-exist',
        close: () => broker.close(),
      };
    },
    native: {
      broker: (native) => native !== null && typeof native === 'object' && 'createTopic' in native,
      message: (native) => native !== null && typeof native === 'object' && 'publishedAt' in native,
    },
  });
}
