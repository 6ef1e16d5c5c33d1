// Bad input on the RocketMQ driver's Remoting (4.x) transport, the cases test/bad-input.test.ts
// runs for the other flavours: every case fails with a typed SwitchyardError whose code is the
// portable meaning and whose message names the problem, and no credential shows anywhere.
//
// Every credential is a sentinel (sentinelLeakCheck): the role name (secretKey, the HMAC-SHA1 key
// of every request's Signature), the role token (accessKey, sent in every request), a wrong token
// (which the emulator's ACL refusal echoes, as Apache's does) and passwords in malformed URLs.

import { sentinelLeakCheck } from '@switchyard/conformance';
import { type Broker, connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type BadInputCase, checkBadInput } from './bad-input-check.js';

const leaks = sentinelLeakCheck('remoting bad input');
const ROLE = leaks.sentinel.value;
const TOKEN = leaks.sentinel.another('role-token');
const WRONG_TOKEN = leaks.sentinel.another('wrong-role-token');
const WRONG_ROLE = leaks.sentinel.another('wrong-role');
const URL_USER = leaks.sentinel.another('url-user');
const URL_PASSWORD = leaks.sentinel.another('url-password');
const enc = encodeURIComponent;
const CLUSTER = 'badinput';
const NAMESPACE = 'ns';
const full = (name: string) => `${CLUSTER}|${NAMESPACE}%${name}`;

let emulator: RunningEmulator;
const brokers: Broker[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    rocketmqPort: 0,
    remotingPort: 0,
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { autoCreate: false, allowAnonymous: false },
  });
  emulator.engines.rocketmq.createTopic(full('exists'), { type: 'MIXED', queues: 2 });
  emulator.engines.rocketmq.createGroup(full('g'), { fifo: false });
});
afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 2_000 })));
  await emulator?.stop();
});

const config = (extra: Record<string, unknown> = {}) => ({
  driver: 'rocketmq',
  transport: 'remoting',
  endpoints: emulator.endpoints.remoting,
  cluster: CLUSTER,
  namespace: NAMESPACE,
  token: TOKEN,
  role: ROLE,
  requestTimeoutMs: 2_000,
  logger: leaks.logger,
  ...extra,
});
const open = async (target: Parameters<typeof connect>[0]): Promise<Broker> => {
  const broker = leaks.watch(
    await (typeof target === 'string' ? connect(target, { logger: leaks.logger }) : connect(target)),
  );
  brokers.push(broker);
  return broker;
};
const producer = async (extra: Record<string, unknown> = {}, topic = 'exists') =>
  (await open(config(extra))).producer(topic);
const body = (n: number) => Buffer.alloc(n, 0x61);

const cases: BadInputCase[] = [
  // --- credentials (TDMQ's order: accessKey = role token, secretKey = role name) ---
  {
    name: 'wrong secret key (role name)',
    run: async () => (await producer({ role: WRONG_ROLE })).send('x'),
    code: 'UNAUTHENTICATED',
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'wrong role token (access key), which the broker echoes',
    run: async () => (await producer({ token: WRONG_TOKEN })).send('x'),
    code: 'UNAUTHENTICATED',
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'the pair swapped (role name as the token)',
    run: async () => (await producer({ token: ROLE, role: TOKEN })).send('x'),
    code: 'UNAUTHENTICATED',
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'wrong role token in the URL',
    run: async () => {
      const url = `rocketmq+remoting://${enc(WRONG_TOKEN)}:${enc(ROLE)}@${emulator.endpoints.remoting}?cluster=${CLUSTER}&namespace=${NAMESPACE}&requestTimeoutMs=2000`;
      return (await (await open(url)).producer('exists')).send('x');
    },
    code: 'UNAUTHENTICATED',
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'a consumer with a wrong role token',
    run: async () => (await open(config({ token: WRONG_TOKEN }))).consumer('exists', { group: 'g' }),
    code: 'UNAUTHENTICATED',
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'a role name without a token',
    run: () => connect(config({ token: undefined })),
    code: 'CONFIG',
    says: /accessKey \(role token\)/,
  },
  // --- names and topology ---
  {
    name: 'a topic that does not exist (producer)',
    run: async () => (await producer({}, 'nosuch')).send('x'),
    code: 'NOT_FOUND',
    says: /nosuch/,
  },
  {
    name: 'a topic that does not exist (consumer)',
    run: async () => (await open(config())).consumer('nosuch', { group: 'g' }),
    code: 'NOT_FOUND',
    says: /nosuch/,
  },
  {
    name: 'a name with a character no name may have',
    run: async () => (await open(config())).producer('bad name!'),
    code: 'INVALID_ARGUMENT',
    says: /name/,
  },
  // --- messages ---
  {
    name: 'a body over the limit',
    run: async () => (await producer({ maxMessageBytes: 1024 })).send(body(1025)),
    code: 'MESSAGE_TOO_LARGE',
    says: /at most 1024 bytes/,
  },
  {
    name: 'a body over the broker’s 4 MiB',
    run: async () => (await producer()).send(body(4 * 1024 * 1024 + 1)),
    code: 'MESSAGE_TOO_LARGE',
    says: /4194304/,
  },
  {
    name: 'two tags (RocketMQ carries one)',
    run: async () => (await producer()).send({ body: 'x', tags: ['a', 'b'] }),
    code: 'INVALID_ARGUMENT',
    says: /at most 1 per message/,
  },
  {
    name: 'a tag with the filter separator',
    run: async () => (await producer()).send({ body: 'x', tags: ['a|b'] }),
    code: 'INVALID_ARGUMENT',
    says: /\|/,
  },
  {
    name: 'a routing key',
    run: async () => (await producer()).send({ body: 'x', routingKey: 'a.b' }),
    code: 'UNSUPPORTED',
    says: /Routing keys is not supported by the rocketmq driver/,
  },
  {
    name: 'a delay past the last delay level (2 h)',
    run: async () => (await producer()).send({ body: 'x', delayMs: 3 * 3_600_000 }),
    code: 'INVALID_ARGUMENT',
    says: /7200000|2 h/,
  },
  {
    name: 'a routing-key filter on a consumer',
    run: async () =>
      (await open(config())).consumer('exists', { group: 'g', filter: { routingKeys: ['a.*'] } }),
    code: 'UNSUPPORTED',
    says: /Routing/,
  },
  // --- configuration and URLs ---
  {
    name: 'a URL that does not parse, the role token as its user',
    run: () => connect(`rocketmq+remoting://${enc(URL_USER)}:${enc(URL_PASSWORD)}@127.0.0.1:99999`),
    code: 'CONFIG',
    says: /not a valid broker URL/,
  },
  {
    name: 'TLS on the Remoting transport',
    run: () => connect(config({ tls: true })),
    code: 'CONFIG',
    says: /TLS/,
  },
  {
    name: 'the 5.x namespace field on the Remoting transport',
    run: () => connect(config({ naming: 'field' })),
    code: 'CONFIG',
    says: /naming/,
  },
  {
    name: 'an unknown URL parameter',
    run: () => connect(`rocketmq+remoting://${enc(URL_USER)}:${enc(URL_PASSWORD)}@127.0.0.1:9876?color=blue`),
    code: 'CONFIG',
    says: /color/,
  },
  {
    name: 'native dead-lettering to a destination other than the group’s %DLQ%',
    run: async () =>
      (await open(config({ deadLetter: 'native' }))).consumer('exists', {
        group: 'g',
        maxDeliveries: 3,
        deadLetter: 'elsewhere',
      }),
    code: 'UNSUPPORTED',
    says: /%DLQ%/,
  },
  {
    name: 'a name server nobody listens on',
    run: async () => (await producer({ endpoints: '127.0.0.1:1', requestTimeoutMs: 1_000 })).send('x'),
    code: 'UNAVAILABLE',
    says: /127\.0\.0\.1:1/,
  },
];

describe('remoting bad input', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => checkBadInput(c, leaks));
});
