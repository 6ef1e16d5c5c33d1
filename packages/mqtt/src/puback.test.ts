import mqttPacket from 'mqtt-packet';
import { expect, it } from 'vitest';
import { pubackBytes } from './consumer.js';

it('writes the PUBACKs of an ack batch as mqtt-packet does, in MQTT 5 and 3.1.1', () => {
  const ids = [1, 255, 256, 4_660, 65_535];
  for (const protocolVersion of [4, 5] as const) {
    const one = ids.map((messageId) =>
      mqttPacket.generate({ cmd: 'puback', messageId, reasonCode: 0 }, { protocolVersion }),
    );
    expect(pubackBytes(ids).equals(Buffer.concat(one))).toBe(true);
  }
  expect(pubackBytes([]).length).toBe(0);
});

it('reads back as one PUBACK per id', () => {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const seen: number[] = [];
  parser.on('packet', (packet) => {
    expect(packet.cmd).toBe('puback');
    seen.push((packet as { messageId: number }).messageId);
  });
  parser.parse(pubackBytes([7, 8, 9]));
  expect(seen).toEqual([7, 8, 9]);
});
