import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpReply, ParsedRequest } from '../contracts.js';
import { actions } from './actions.js';
import { CmqEngine } from './engine.js';
import { CmqHandler } from './handler.js';
import { signParams } from './signature.js';
import { TEST_CREDENTIAL } from './test-client.js';

const HOST = '127.0.0.1:9999';
const ACTION_NAMES = Object.keys(actions);
const PARAM_NAMES = [
  'queueName',
  'topicName',
  'subscriptionName',
  'msgBody',
  'msgBody.0',
  'msgBody.1',
  'msgBody.2',
  'msgBody.x',
  'receiptHandle',
  'receiptHandle.1',
  'delaySeconds',
  'pollingWaitSeconds',
  'numOfMsg',
  'visibilityTimeout',
  'maxMsgSize',
  'maxMsgHeapNum',
  'msgRetentionSeconds',
  'rewindSeconds',
  'deadLetterPolicy',
  'startConsumeTime',
  'filterType',
  'protocol',
  'endpoint',
  'notifyStrategy',
  'notifyContentFormat',
  'filterTag.1',
  'bindingKey.1',
  'msgTag.1',
  'routingKey',
  'offset',
  'limit',
  'searchWord',
];
const value = fc.oneof(
  fc.constantFrom(
    'q1',
    'Q1',
    'topic1',
    'sub1',
    '',
    '0',
    '1',
    '16',
    '31',
    '-1',
    'http://127.0.0.1:1/x',
    'queue',
    'http',
  ),
  fc.constantFrom(
    'SIMPLIFIED',
    'JSON',
    'BACKOFF_RETRY',
    'a.b',
    '#',
    '{"deadLetterQueue":"q1","policy":0}',
    '@x',
  ),
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

function parsed(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string>,
  query = '',
): ParsedRequest {
  return {
    method,
    path,
    query: new URLSearchParams(query),
    headers: { host: HOST, ...headers },
    body: Buffer.from(body, 'utf8'),
    signal: AbortSignal.timeout(30),
  };
}

async function checkReply(handler: CmqHandler, request: ParsedRequest): Promise<Record<string, unknown>> {
  expect(typeof handler.actionOf(request)).toBe('string');
  let timer: NodeJS.Timeout | undefined;
  const reply = await Promise.race([
    handler.handle(request),
    new Promise<HttpReply>((_, reject) => {
      timer = setTimeout(() => reject(new Error('handler hung')), 2000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(reply.status).toBe(200);
  const json = JSON.parse(String(reply.body)) as Record<string, unknown>;
  expect(typeof json.code).toBe('number');
  expect(typeof json.message).toBe('string');
  expect(typeof json.requestId).toBe('string');
  if (json.code !== 0) expect(json.message).toMatch(/^\(\d+\)/);
  else expect(json.message).toBe('');
  return json;
}

function newHandler(): CmqHandler {
  const engine = new CmqEngine({ recreateGuardSeconds: 0, pushTimeoutMs: 50 });
  engine.createQueue('q1');
  engine.createTopic('topic1');
  return new CmqHandler({ engine, credentials: [TEST_CREDENTIAL] });
}

describe('CMQ handler fuzz', () => {
  it('answers arbitrary unsigned input with a well-formed CMQ error', async () => {
    const handler = newHandler();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'post'),
        fc.constantFrom('/', '/v2/index.php', '/x?y', ''),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.webQueryParameters(),
        ),
        fc.dictionary(
          fc.constantFrom('content-type', 'host', 'x-anything', 'content-length'),
          fc.string({ maxLength: 30 }),
        ),
        async (method, path, body, headers) => {
          const reply = await checkReply(handler, parsed(method, path, body, headers, body));
          expect(reply.code).not.toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('answers arbitrary signed actions and params with a well-formed reply', async () => {
    const handler = newHandler();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ACTION_NAMES),
        fc.dictionary(fc.constantFrom(...PARAM_NAMES), value, { maxKeys: 8 }),
        fc.constantFrom('/', '/v2/index.php'),
        fc.boolean(),
        async (action, extra, path, sha256) => {
          const params = signParams({
            method: 'POST',
            host: HOST,
            path,
            secretKey: TEST_CREDENTIAL.secretKey,
            params: [
              ['Action', action],
              ['Nonce', '1'],
              ['SecretId', TEST_CREDENTIAL.secretId],
              ['SignatureMethod', sha256 ? 'HmacSHA256' : 'HmacSHA1'],
              ['Timestamp', String(Math.floor(Date.now() / 1000))],
              ...Object.entries(extra),
            ],
          });
          const body = new URLSearchParams(params).toString();
          const reply = await checkReply(handler, parsed('POST', path, body, {}));
          // A signed request must never fail authentication: that would mean parse and sign disagree.
          expect(reply.code).not.toBe(4100);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
