// The TDMQ CMQ topic quick start in TypeScript: a tag topic and a routing-key topic, each with
// filtered subscriptions. Every consumer group gets its own queue (`<topic>-<group>`) subscribed
// to the topic with the group's filter; publishing fans out to the groups whose filter matches.
// With no SWITCHYARD_URL it starts the local CMQ emulator in-process.

import { type Broker, connect } from '@switchyard/core';
import { DEFAULT_CREDENTIALS, startEmulator } from '@switchyard/emulator';

const emulator = process.env.SWITCHYARD_URL ? undefined : await startEmulator();
const base = emulator ? emulatorUrl(emulator.endpoints) : (process.env.SWITCHYARD_URL as string);

function topicUrl(filter: 'tag' | 'routing'): string {
  const url = new URL(base);
  url.searchParams.set('model', 'topic');
  url.searchParams.set('topicFilter', filter);
  url.searchParams.set('manageTopology', 'true');
  return url.href;
}

async function drain(
  broker: Broker,
  topic: string,
  groups: Record<string, number>,
  filters: Record<string, object>,
) {
  // Consumers first: creating a group creates its queue and its filtered subscription.
  const consumers = await Promise.all(
    Object.keys(groups).map(
      async (group) =>
        [group, await broker.consumer(topic, { group, filter: filters[group] ?? {} })] as const,
    ),
  );
  return async () => {
    for (const [group, consumer] of consumers) {
      const got: string[] = [];
      while (got.length < (groups[group] ?? 0)) {
        for (const m of await consumer.receive({ max: 16, waitMs: 3_000 })) {
          got.push(m.text());
          await m.ack();
        }
      }
      // Nothing more should come for this group.
      const extra = await consumer.receive({ max: 16, waitMs: 300 });
      console.log(
        `${topic} / ${group}: ${got.sort().join(', ')}${extra.length ? ` (+${extra.length} unexpected)` : ''}`,
      );
    }
  };
}

// Tag filtering (FilterType 1): a subscription gets a message when their tags intersect.
const tags = await connect(topicUrl('tag'));
console.log(`connected: ${tags.driver} (topic model, tag filters)`);
const tagCheck = await drain(
  tags,
  'quickstart-tag-topic',
  { 'tag1-only': 1, 'tag-or-tag2': 2, everything: 3 },
  { 'tag1-only': { tags: ['TAG1'] }, 'tag-or-tag2': { tags: ['TAG', 'TAG2'] } },
);
const tagProducer = await tags.producer('quickstart-tag-topic');
for (const tag of ['TAG', 'TAG1', 'TAG2'])
  await tagProducer.send({ body: `message tagged ${tag}`, tags: [tag] });
console.log('published 3 tag messages: TAG, TAG1, TAG2');
await tagCheck();
await tags.close();

// Routing-key filtering (FilterType 2): binding keys match with `*` (one word) and `#` (zero or more).
const routes = await connect(topicUrl('routing'));
console.log(`connected: ${routes.driver} (topic model, routing keys)`);
const routeCheck = await drain(
  routes,
  'quickstart-route-topic',
  { 'a-b-any': 2, 'x-anything': 2, 'ends-c': 2, exact: 1 },
  {
    'a-b-any': { routingKeys: ['a.b.*'] },
    'x-anything': { routingKeys: ['x.#'] },
    'ends-c': { routingKeys: ['*.*.c'] },
    exact: { routingKeys: ['a.c.d'] },
  },
);
const routeProducer = await routes.producer('quickstart-route-topic');
const keys = ['a.b.c', 'a.b.x', 'a.c.d', 'x.y.z', 'x.y.c'];
await routeProducer.send(keys.map((routingKey) => ({ body: routingKey, routingKey })));
console.log(`published ${keys.length} route messages: ${keys.join(', ')}`);
await routeCheck();
await routes.close();

await emulator?.stop();
console.log('closed cleanly');

function emulatorUrl(endpoints: { cmq: string; api: string }): string {
  const { secretId, secretKey } = DEFAULT_CREDENTIALS[0]!;
  const cmq = new URL(endpoints.cmq);
  const query = new URLSearchParams({ region: 'ap-guangzhou', managementEndpoint: endpoints.api });
  return `cmq+http://${secretId}:${encodeURIComponent(secretKey)}@${cmq.host}?${query}`;
}
