// Request-reply and health on the real Mosquitto (MQTT 5). A Switchyard request is a plain MQTT 5
// request: its reply address is the PUBLISH's Response Topic and its correlation id the Correlation
// Data, so a plain MQTT.js service answers it the MQTT 5 way, and Switchyard answers a plain
// client's request to the response topic that client chose.

import { randomUUID } from 'node:crypto';
import { type Broker, connect, type Message } from '@switchyard/core';
import { REPLY_TOPIC_PREFIX } from '@switchyard/mqtt';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTopic, MQTT_URL } from './mqtt-helpers.js';

let broker: Broker;
let plain: MqttClient;
const prefix = `rr-${process.pid}-`;

beforeAll(async () => {
  broker = await connect(`${MQTT_URL}?clientIdPrefix=${prefix}`);
  plain = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 5_000 });
  await plain?.endAsync();
});

/** The next message the plain client gets on `topic`. */
function next(client: MqttClient, topic: string): Promise<IPublishPacket> {
  return new Promise((resolve) => {
    const onMessage = (t: string, _payload: Buffer, packet: IPublishPacket) => {
      if (t !== topic) return;
      client.off('message', onMessage);
      resolve(packet);
    };
    client.on('message', onMessage);
  });
}

describe('request-reply on MQTT 5', () => {
  it('a plain MQTT.js service answers a Switchyard request through its response topic and correlation data', async () => {
    const topic = freshTopic('rr-service');
    const requests: IPublishPacket[] = [];
    const service = (t: string, payload: Buffer, packet: IPublishPacket) => {
      if (t !== topic) return;
      requests.push(packet);
      const { responseTopic, correlationData } = packet.properties ?? {};
      // What any MQTT 5 responder does: answer on the response topic, echoing the correlation data.
      void plain.publishAsync(responseTopic!, Buffer.from(`echo:${payload.toString()}`), {
        qos: 1,
        properties: { correlationData },
      });
    };
    plain.on('message', service);
    try {
      await plain.subscribeAsync(topic, { qos: 1 });
      const producer = await broker.producer(topic);
      const replies = await Promise.all(
        ['a', 'b', 'c'].map((text) => producer.request({ body: text }, { timeoutMs: 20_000 })),
      );
      expect(replies.map((r) => r.text())).toEqual(['echo:a', 'echo:b', 'echo:c']);
      // Native MQTT 5 fields, not user properties: what any MQTT 5 service reads.
      for (const request of requests) {
        expect(request.properties?.responseTopic).toMatch(new RegExp(`^${REPLY_TOPIC_PREFIX}/[0-9a-f]{24}$`));
        expect(Buffer.from(request.properties!.correlationData!).toString()).toMatch(/^[0-9a-f-]{36}$/);
        expect(request.properties?.userProperties?.['reply-to']).toBeUndefined();
        expect(request.properties?.userProperties?.['correlation-id']).toBeUndefined();
      }
      // One inbox per broker: every request names the same response topic.
      expect(new Set(requests.map((r) => r.properties?.responseTopic)).size).toBe(1);
    } finally {
      plain.off('message', service);
    }
  });

  it('Switchyard answers a plain MQTT.js request on the response topic the client chose', async () => {
    const topic = freshTopic('rr-plain-request');
    const responseTopic = `sy-test/plain-replies/${randomUUID()}`;
    await plain.subscribeAsync(responseTopic, { qos: 1 });
    const consumer = await broker.consumer(topic, { group: 'responders' });
    const running = consumer.run(async (m: Message) => {
      await broker.reply(m, { body: { total: (m.json() as { n: number }).n * 2 } });
    });
    try {
      const reply = next(plain, responseTopic);
      await plain.publishAsync(topic, JSON.stringify({ n: 21 }), {
        qos: 1,
        properties: {
          responseTopic,
          correlationData: Buffer.from('plain-corr-1'),
          contentType: 'application/json',
        },
      });
      const packet = await reply;
      expect(JSON.parse(packet.payload.toString())).toEqual({ total: 42 });
      expect(Buffer.from(packet.properties!.correlationData!).toString()).toBe('plain-corr-1');
    } finally {
      await consumer.close();
      await running;
      await plain.unsubscribeAsync(responseTopic);
    }
  });

  it('a request nobody answers times out, and a reply after that is counted late, not delivered', async () => {
    const topic = freshTopic('rr-late');
    const seen = next(plain, topic);
    await plain.subscribeAsync(topic, { qos: 1 });
    const producer = await broker.producer(topic);
    // The rejection is held from the start: on a loaded machine the timeout may come first.
    const outcome = producer.request({ body: 'slow' }, { timeoutMs: 300 }).then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    );
    const request = await seen;
    expect((await outcome)?.code).toBe('TIMEOUT');
    const { responseTopic, correlationData } = request.properties ?? {};
    await plain.publishAsync(responseTopic!, 'too late', { qos: 1, properties: { correlationData } });
    const deadline = Date.now() + 15_000;
    while (producer.lateReplies === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(producer.lateReplies).toBe(1);
  });

  it('closing the broker unsubscribes its reply inbox: the broker then has no subscriber for it', async () => {
    const other = await connect(`${MQTT_URL}?clientIdPrefix=${prefix}x-`);
    const topic = freshTopic('rr-close');
    const service = (t: string, _payload: Buffer, packet: IPublishPacket) => {
      if (t !== topic) return;
      const { responseTopic, correlationData } = packet.properties ?? {};
      void plain.publishAsync(responseTopic!, 'ok', { qos: 1, properties: { correlationData } });
    };
    plain.on('message', service);
    let address: string;
    try {
      await plain.subscribeAsync(topic, { qos: 1 });
      const producer = await other.producer(topic);
      const reply = await producer.request({ body: 'x' }, { timeoutMs: 20_000 });
      expect(reply.text()).toBe('ok');
      address = reply.unwrap<IPublishPacket>().topic;
    } finally {
      plain.off('message', service);
      await other.close({ timeoutMs: 5_000 });
    }
    // MQTT 5 PUBACK 0x10: accepted, but no subscription matches the topic.
    const reasons: number[] = [];
    const onPacket = (packet: { cmd: string; reasonCode?: number }) => {
      if (packet.cmd === 'puback') reasons.push(packet.reasonCode ?? 0);
    };
    plain.on('packetreceive', onPacket);
    try {
      await plain.publishAsync(address, 'after close', { qos: 1 });
    } finally {
      plain.off('packetreceive', onPacket);
    }
    expect(reasons).toEqual([0x10]);
  });

  it('MQTT 3.1.1 has no response topic: a request is refused as UNSUPPORTED, naming MQTT 5', async () => {
    const v311 = await connect(`${MQTT_URL}?protocolVersion=4&clientIdPrefix=${prefix}v4-`);
    try {
      expect(v311.capabilities.requestReply).toBe(false);
      const producer = await v311.producer(freshTopic('rr-v4'));
      const error = await producer.request({ body: 'x' }, { timeoutMs: 5_000 }).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
      expect(error?.code).toBe('UNSUPPORTED');
    } finally {
      await v311.close({ timeoutMs: 5_000 });
    }
  });
});

describe('health on MQTT', () => {
  it('is up with a PUBACK round trip on the connection, on MQTT 5 and on MQTT 3.1.1', async () => {
    const health = await broker.health({ timeoutMs: 10_000 });
    expect(health.status).toBe('up');
    expect(health.details).toMatchObject({
      driver: 'mqtt',
      connected: true,
      puback: 'accepted',
      protocolVersion: 5,
    });
    const v311 = await connect(`${MQTT_URL}?protocolVersion=4&clientIdPrefix=${prefix}h4-`);
    try {
      const old = await v311.health({ timeoutMs: 10_000 });
      expect(old.status).toBe('up');
      expect(old.details).toMatchObject({ puback: 'accepted', protocolVersion: 4 });
    } finally {
      await v311.close({ timeoutMs: 5_000 });
    }
  });
});
