// @switchyard/conformance: one behaviour suite for every driver. A driver's test file calls
// runConformance() with a harness; scenarios a driver cannot support are skipped by its
// capabilities (the same object that gates runtime behaviour), and counted as skipped.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SuiteContext } from './context.js';
import type { ConformanceOptions } from './harness.js';
import { ackScenarios } from './scenarios-acks.js';
import { basicScenarios } from './scenarios-basics.js';
import { batchScenarios } from './scenarios-batch.js';
import { cloudEventScenarios } from './scenarios-cloudevents.js';
import { deliveryScenarios } from './scenarios-delivery.js';
import { flowScenarios } from './scenarios-flow.js';
import { healthScenarios } from './scenarios-health.js';
import { lifecycleScenarios } from './scenarios-lifecycle.js';
import { observabilityScenarios } from './scenarios-observability.js';
import { poisonScenario } from './scenarios-poison.js';
import { reconnectScenarios } from './scenarios-reconnect.js';
import { requestReplyScenarios } from './scenarios-request-reply.js';

export { collect, nothingWithin, SuiteContext } from './context.js';
export type { ConformanceHarness, ConformanceOptions, NativeChecks } from './harness.js';
export type { PoisonResult } from './scenarios-poison.js';
export {
  LeakCapture,
  type LeakCounts,
  type LeakFinding,
  Sentinel,
  type SentinelForm,
  sentinelLeakCheck,
} from './sentinel.js';
export { type Starvation, starve } from './starvation.js';

export function runConformance(options: ConformanceOptions): void {
  describe(`conformance: ${options.name}`, () => {
    const ctx = new SuiteContext(options);
    beforeAll(() => ctx.setUp());
    afterAll(() => ctx.tearDown());
    describe('basics', () => basicScenarios(ctx));
    describe('acknowledgement and redelivery', () => ackScenarios(ctx));
    describe('delivery features', () => deliveryScenarios(ctx));
    const patterns = options.patterns !== false;
    if (patterns) {
      describe('batch handlers', () => batchScenarios(ctx));
      describe('flow control', () => flowScenarios(ctx));
      describe('CloudEvents', () => cloudEventScenarios(ctx));
    }
    describe('lifecycle and errors', () => lifecycleScenarios(ctx));
    describe('observability', () => observabilityScenarios(ctx));
    describe('poison messages', () => {
      poisonScenario(ctx, { starved: false });
      poisonScenario(ctx, { starved: true });
    });
    describe('reconnect', () => reconnectScenarios(ctx));
    if (patterns) {
      describe('request-reply', () => requestReplyScenarios(ctx));
      describe('health', () => healthScenarios(ctx));
    }
    const capture = options.leakCheck;
    if (capture !== undefined) {
      // The file's afterAll checks again after teardown; this makes the result visible per suite.
      it('the sentinel secret appears in no captured output', () => {
        expect(ctx.harness.secrets ?? []).toEqual(expect.arrayContaining([capture.sentinel.value]));
        capture.assertClean();
        console.log(capture.summary());
      });
    }
  });
}
