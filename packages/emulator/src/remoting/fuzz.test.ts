// Property-based fuzz of the Remoting broker with random, half-valid and garbage requests: every
// request gets a reply with an Apache response code, no JavaScript error escapes as a remark,
// nothing hangs, and the shared engine still snapshots afterwards.

import { type RemotingCommand, RequestCode, ResponseCode } from '@switchyard/rocketmq-remoting';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeout } from '../../test-kit/fuzz-settings.js';
import { within } from '../../test-kit/within.js';
import { RocketMqEngine } from '../rocketmq/engine.js';
import { type Peer, RemotingBroker } from './broker.js';
import { PULL_REQUIRED } from './consume.js';

const CODES = new Set<number>(Object.values(ResponseCode));
const FIELDS = [
  ...'abcdefghijklmn',
  ...PULL_REQUIRED,
  'subscription',
  'expressionType',
  'offset',
  'group',
  'delayLevel',
  'maxReconsumeTimes',
  'originMsgId',
  'clientID',
  'timestamp',
  'AccessKey',
];

const value = fc.oneof(
  fc.string(),
  fc.integer({ min: -5, max: 70 }).map(String),
  fc.constantFrom('T', 'ns%T', '%RETRY%g', '%DLQ%g', 'g', 'TagA || TagB', '*', 'SQL92', 'true', ''),
  fc.constantFrom(
    'TAGS\u0001A\u0002DELAY\u00012',
    'UNIQ_KEY\u0001X\u0002__STARTDELIVERTIME\u00019999999999999',
  ),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc
    .constantFrom(
      '{"clientID":"c","consumerDataSet":[{"groupName":"g","subscriptionDataSet":[{"topic":"T","subString":"A"}]}]}',
      '{"consumerGroup":"g","clientId":"c","mqSet":[{"topic":"T","brokerName":"broker-a","queueId":0}]}',
      '{"consumerDataSet":[null,{"groupName":7}]}',
      'null',
    )
    .map((s) => Buffer.from(s)),
);
const command: fc.Arbitrary<RemotingCommand> = fc
  .record({
    code: fc.oneof(fc.constantFrom(...Object.values(RequestCode)), fc.integer({ min: -1, max: 400 })),
    version: fc.constantFrom(0, 121, 317, 409),
    flag: fc.constantFrom(0, 0, 2),
    extFields: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 12 }),
    body,
    serializeType: fc.constantFrom('JSON' as const, 'ROCKETMQ' as const),
  })
  .map(({ body: b, ...rest }) => ({ ...rest, language: 'JAVA', opaque: 1, ...(b ? { body: b } : {}) }));

describe('Remoting broker fuzz', () => {
  it(
    'answers every request with an Apache code and never leaks a JavaScript error',
    async () => {
      const engine = new RocketMqEngine();
      engine.createTopic('T', { type: 'MIXED', queues: 2 });
      const broker = new RemotingBroker({
        engine,
        credentials: [{ secretId: 'AK', secretKey: 'SK' }],
        allowAnonymous: true,
        advertised: () => '127.0.0.1:10911',
        maxHoldMs: 1,
      });
      const peer: Peer = {
        connectionId: 1,
        address: '127.0.0.1:5555',
        signal: new AbortController().signal,
        send() {},
      };
      await fc.assert(
        fc.asyncProperty(command, async (cmd) => {
          const reply = await within(broker.dispatch(cmd, peer), 5_000, `request code ${cmd.code}`);
          expect(reply).toBeDefined();
          expect(CODES.has(reply!.code)).toBe(true);
          expect(reply!.opaque).toBe(cmd.opaque);
          expect(reply!.remark ?? '').not.toMatch(/TypeError|RangeError|ReferenceError|undefined is not/);
        }),
        fuzzParameters(1919),
      );
      expect(() => JSON.stringify(engine.snapshot())).not.toThrow();
      engine.close();
    },
    fuzzTimeout(60_000),
  );
});
