// The health probe on the real Mosquitto (127.0.0.1:1883): what it leaves behind on the shared
// client's watch matters to every producer on that client.

import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { watchClient } from './client-watch.js';
import { probeMqtt } from './reply.js';

const URL = process.env.SWITCHYARD_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
let client: MqttClient;

beforeAll(async () => {
  client = await mqtt.connectAsync(URL, { protocolVersion: 5 });
});
afterAll(async () => {
  await client?.endAsync();
});

it('forgets the PUBACK 0x10 of its probe publish, so a producer reusing the packet id is not taken for unroutable', async () => {
  const watch = watchClient(client);
  const reasons: number[] = [];
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback') reasons.push((packet as { reasonCode?: number }).reasonCode ?? 0);
  });
  const details = await probeMqtt(client, new AbortController().signal);
  expect(details).toEqual({ connected: true, puback: 'accepted' });
  // Nobody subscribes to the probe topic: the broker said so, and the watch holds nothing.
  expect(reasons).toEqual([0x10]);
  expect(watch.unmatched.size).toBe(0);
});

it('is UNAVAILABLE at once when the connection is down, and gives up when its signal aborts', async () => {
  const down = await mqtt.connectAsync(URL, { protocolVersion: 5, reconnectPeriod: 0 });
  await down.endAsync();
  await expect(probeMqtt(down, new AbortController().signal)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  const abort = new AbortController();
  abort.abort(new Error('deadline'));
  await expect(probeMqtt(client, abort.signal)).rejects.toThrow('deadline');
});
