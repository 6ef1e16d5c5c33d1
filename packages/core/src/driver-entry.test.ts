import { describe, expect, it } from 'vitest';

describe('@switchyard/core/driver', () => {
  it('resolves by its package name and gives driver authors the contract helpers, not the service API', async () => {
    const kit: Record<string, unknown> = await import('@switchyard/core/driver');
    for (const name of [
      'defineCapabilities',
      'parseWithSchema',
      'decodeUrlPart',
      'retry',
      'Secret',
      'ErrorCode',
    ]) {
      expect(kit[name], name).toBeDefined();
    }
    for (const name of ['connect', 'Broker', 'Consumer', 'Producer', 'fromConfig']) {
      expect(kit[name], name).toBeUndefined();
    }
  });
});
