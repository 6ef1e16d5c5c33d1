// The CloudEvents codec against the official SDK (`cloudevents`): what Switchyard writes the SDK
// reads (Kafka binding for the `ce_` flavours, the JSON event format for structured mode, MQTT's
// bare user properties), and what the SDK writes Switchyard reads. Over the memory driver here;
// test/cloudevents-flavours.test.ts sends over RabbitMQ and the emulator-backed flavours.

import { randomUUID } from 'node:crypto';
import { CloudEvent, HTTP, Kafka, type KafkaMessage, MQTT } from 'cloudevents';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from './broker.js';
import { cloudEvents, cloudEventsFor } from './cloudevents.js';
import { cloudEventsBindings } from './cloudevents-mapping.js';
import { connect } from './connect.js';
import { memoryCapabilities, minimalMemoryCapabilities } from './memory/driver.js';
import type { SendInput } from './producer.js';

const brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});
async function memory(): Promise<Broker> {
  const broker = await connect({ driver: 'memory', name: `ce-${randomUUID()}` });
  brokers.push(broker);
  return broker;
}
async function roundTrip(broker: Broker, message: SendInput) {
  const q = `q-${randomUUID().slice(0, 8)}`;
  const consumer = await broker.consumer(q);
  await (await broker.producer(q)).send(message);
  const [m] = await consumer.receive({ waitMs: 5_000 });
  await m!.ack();
  return m!;
}

/** SDK header records may hold undefined values; a message's headers are strings. */
function strings(record: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** An SDK payload as the text a producer sends (the SDK leaves JSON data as the object). */
const text = (payload: unknown) => (typeof payload === 'string' ? payload : JSON.stringify(payload));

const event = {
  id: 'order-42',
  source: '/shop/orders',
  type: 'com.example.order.placed',
  subject: 'order/42',
  time: '2026-12-06T06:00:00.000Z',
  dataschema: 'https://example.com/order.json',
  tenant: 'acme',
  data: { order: 42, items: ['a', 'b'] },
};

describe('cloudEvents codec', () => {
  it('binary mode: the SDK (Kafka binding) reads what Switchyard sends', async () => {
    const broker = await memory();
    const codec = cloudEvents(broker);
    expect(codec.mode).toBe('binary');
    const m = await roundTrip(broker, codec.toMessage(event));
    expect(m.headers.ce_id).toBe('order-42');
    expect(m.contentType).toBe('application/json');
    const record: KafkaMessage<string> = {
      key: '',
      value: m.text(),
      body: m.text(),
      headers: { ...m.headers, 'content-type': m.contentType },
    };
    const read = Kafka.toEvent(record) as CloudEvent<unknown>;
    expect(read.id).toBe('order-42');
    expect(read.source).toBe('/shop/orders');
    expect(read.type).toBe('com.example.order.placed');
    expect(read.subject).toBe('order/42');
    expect(read.time).toBe('2026-12-06T06:00:00.000Z');
    expect(read.dataschema).toBe('https://example.com/order.json');
    expect(read.tenant).toBe('acme');
    expect(read.data).toEqual(event.data);
    expect(read.validate()).toBe(true);
  });

  it('structured mode: the SDK (JSON event format) reads what Switchyard sends, bytes as data_base64', async () => {
    const broker = await memory();
    const codec = cloudEvents(broker, { mode: 'structured' });
    const m = await roundTrip(broker, codec.toMessage(event));
    expect(m.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(Object.keys(m.headers).some((h) => h.startsWith('ce_'))).toBe(false);
    const read = HTTP.toEvent({
      headers: { 'content-type': m.contentType! },
      body: m.text(),
    }) as CloudEvent<unknown>;
    expect(read.id).toBe('order-42');
    expect(read.tenant).toBe('acme');
    expect(read.data).toEqual(event.data);

    const bytes = new Uint8Array([0, 255, 1, 2]);
    const binaryData = await roundTrip(broker, codec.toMessage({ ...event, data: bytes }));
    const readBytes = HTTP.toEvent({
      headers: { 'content-type': binaryData.contentType! },
      body: binaryData.text(),
    }) as CloudEvent<unknown>;
    expect(new Uint8Array(readBytes.data as Uint8Array)).toEqual(bytes);
    expect(codec.fromMessage(binaryData).data).toEqual(bytes);
  });

  it('reads what the SDK writes: Kafka binary, HTTP binary, MQTT 5 binary and structured', async () => {
    const broker = await memory();
    const codec = cloudEvents(broker);
    const sdkEvent = new CloudEvent({ ...event, datacontenttype: 'application/json' });
    const kafka = Kafka.binary(sdkEvent);
    const { 'content-type': kafkaType, ...kafkaHeaders } = strings(kafka.headers);
    const fromKafka = codec.fromMessage(
      await roundTrip(broker, { body: text(kafka.value), contentType: kafkaType, headers: kafkaHeaders }),
    );
    const http = HTTP.binary(sdkEvent);
    const { 'content-type': httpType, ...httpHeaders } = strings(http.headers);
    const fromHttp = codec.fromMessage(
      await roundTrip(broker, { body: text(http.body), contentType: httpType, headers: httpHeaders }),
    );
    const mqtt = MQTT.binary(sdkEvent);
    const mqttType = strings(mqtt.PUBLISH ?? {})['Content Type'];
    const mqttProps = strings(mqtt.headers); // the MQTT 5 user properties
    const fromMqtt = codec.fromMessage(
      await roundTrip(broker, { body: text(mqtt.payload), contentType: mqttType, headers: mqttProps }),
    );
    const s = HTTP.structured(sdkEvent);
    const fromStructured = codec.fromMessage(
      await roundTrip(broker, {
        body: text(s.body),
        contentType: (s.headers as Record<string, string>)['content-type'],
      }),
    );
    for (const read of [fromKafka, fromHttp, fromMqtt, fromStructured]) {
      expect(read).toMatchObject({
        specversion: '1.0',
        id: 'order-42',
        source: '/shop/orders',
        type: 'com.example.order.placed',
        subject: 'order/42',
        tenant: 'acme',
        data: event.data,
      });
      expect(String(read.time)).toMatch(/^2026-12-06T06:00:00(\.000)?Z$/);
    }
  });

  it('each flavour writes its binding prefix, and text data stays text', () => {
    const caps = { ...memoryCapabilities, headers: 'native' as const };
    expect(cloudEventsFor('rabbitmq', caps).toMessage(event).headers).toMatchObject({
      cloudEvents_id: 'order-42',
      cloudEvents_specversion: '1.0',
    });
    expect(cloudEventsFor('rocketmq', caps).toMessage(event).headers).toHaveProperty('CE_type');
    expect(cloudEventsFor('mqtt', caps).toMessage(event).headers).toHaveProperty('source', '/shop/orders');
    expect(cloudEventsFor('pulsar', caps).toMessage(event).headers).toHaveProperty('ce_source');
    const text = cloudEventsFor('memory', caps).toMessage({ ...event, data: 'hello' });
    expect(text).toMatchObject({ body: 'hello', contentType: 'text/plain; charset=utf-8' });
    expect(Object.keys(cloudEventsBindings)).toEqual(
      expect.arrayContaining(['rabbitmq', 'rocketmq', 'pulsar', 'pulsar-http', 'cmq', 'mqtt', 'memory']),
    );
  });

  it('defaults to structured where the flavour has no native headers, and refuses binary there', () => {
    const headerless = { ...minimalMemoryCapabilities, headers: 'none' as const };
    expect(cloudEventsFor('cmq', headerless).mode).toBe('structured');
    expect(() => cloudEventsFor('cmq', headerless, { mode: 'binary' })).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED',
        message: expect.stringContaining("use mode 'structured'"),
      }),
    );
  });

  it('reads a structured event that lost its content type (a flavour without headers carries none)', () => {
    const codec = cloudEventsFor('cmq', { ...minimalMemoryCapabilities, headers: 'none' });
    const sent = codec.toMessage(event);
    const body = new TextEncoder().encode(sent.body as string);
    expect(codec.fromMessage({ id: 'm-1', body, contentType: undefined, headers: {} })).toMatchObject({
      id: 'order-42',
      data: event.data,
    });
    const notEvent = new TextEncoder().encode('{"order": 42}');
    expect(() =>
      codec.fromMessage({ id: 'm-2', body: notEvent, contentType: undefined, headers: {} }),
    ).toThrow(/carries no CloudEvent/);
  });

  it('refuses an event without id, source or type, a bad attribute name, and a message that is no event', async () => {
    const broker = await memory();
    const codec = cloudEvents(broker);
    expect(() => codec.toMessage({ ...event, id: '' })).toThrow(/"id" is required/);
    expect(() => codec.toMessage({ ...event, 'Bad-Name': 'x' })).toThrow(/not a valid name/);
    expect(() => codec.toMessage({ ...event, nested: { a: 1 } })).toThrow(/string, number or boolean/);
    const plain = await roundTrip(broker, 'just text');
    expect(() => codec.fromMessage(plain)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/carries no CloudEvent/),
      }),
    );
  });
});

describe('docs/cloudevents.md', () => {
  it('lists every flavour with the prefix the codec writes', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../../docs/cloudevents.md', import.meta.url), 'utf8');
    for (const [driver, binding] of Object.entries(cloudEventsBindings)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${driver}\` |`));
      expect(row, `a row for ${driver}`).toBeDefined();
      expect(row!.split('|')[3]!.trim()).toBe(binding.prefix === '' ? '(none)' : `\`${binding.prefix}\``);
    }
  });
});
