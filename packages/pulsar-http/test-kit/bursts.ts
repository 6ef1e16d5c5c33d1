// Run by bursts.test.ts under `node --trace-opt --log-code --no-concurrent-recompilation`: bursts
// of pipelined sends (under a shared signal), batch reads and acks through the driver's own code,
// the SDK's request() answering at once, with full GCs between bursts and nothing of a burst kept.
// Prints `@@burst <n>` before each burst, so V8's compiles can be placed.
import { CredentialProvider, type Outgoing } from '@switchyard/core/driver';
import { acknowledgeAll, type Handle } from '../src/acknowledge.js';
import { Api } from '../src/client.js';
import { fromUrl } from '../src/config.js';
import type { ConsumerSettings } from '../src/consumer.js';
import { qualifyTopic } from '../src/naming.js';
import { PulsarHttpProducer } from '../src/producer.js';
import { Reader } from '../src/reader.js';

const gc = (globalThis as { gc?: () => void }).gc as () => void;
const QUIET = { debug() {}, info() {}, warn() {}, error() {} };
const BATCH = 64;
const ROUNDS = 40;

/** ReceiveMessage's answer: a batch of BATCH messages. */
function received(round: number): object {
  const ids = Array.from({ length: BATCH }, (_, i) => `m-${round}-${i}`);
  return {
    MessageIDList: ids.join('###'),
    MessagesPayload: ids.map((id) => `body of ${id}`).join('###'),
    AckTopic: 'ack-topic',
    SubName: 'bench',
  };
}

/** The broker's one Api, as a service (and the bench) keeps it for all its producers and consumers. */
async function openApi(): Promise<Api> {
  const config = fromUrl(
    new URL('pulsar-http+http://id:key@127.0.0.1:9?region=ap-guangzhou&cluster=c&maxConcurrency=32'),
    {},
  );
  const credentials = new CredentialProvider(config.credentials as never, {
    driver: 'pulsar-http',
    what: 'bursts',
    status: () => {},
    logger: QUIET as never,
  });
  await credentials.get();
  const api = new Api(config, credentials);
  (api.sdk as unknown as { request: unknown }).request = (action: string) =>
    Promise.resolve(action === 'ReceiveMessage' ? received(round) : { MessageId: `id-${round}` });
  return api;
}

let round = 0;

/** A fresh producer and reader (the bench opens them per round), ROUNDS batches each way. */
async function burst(api: Api): Promise<void> {
  const topic = qualifyTopic('t', 'c', 'default');
  const producer = new PulsarHttpProducer(api, topic, 'raw', undefined, 1);
  const settings = {
    api,
    group: 'bench',
    startFrom: 'earliest',
    mode: 'raw',
    pack: 1,
    logger: QUIET,
  } as unknown as ConsumerSettings;
  const reader = new Reader(settings, false);
  const messages = Array.from(
    { length: BATCH },
    (_, i) => ({ id: `o-${i}`, text: `message ${i}`, bodyBytes: 9 }) as Outgoing,
  );
  const shared = new AbortController();
  for (let r = 0; r < ROUNDS; r++, round++) {
    await producer.sendBatch(messages, shared.signal);
    const deliveries = await reader.read(topic.path, BATCH, 1, true, 'batch');
    await acknowledgeAll(
      api,
      deliveries.map((d) => d.handle as Handle),
    );
  }
}

const api = await openApi();
for (let n = 0; n < 4; n++) {
  process.stdout.write(`@@burst ${n}\n`);
  await burst(api);
  for (let i = 0; i < 4; i++) gc();
}
api.close();
