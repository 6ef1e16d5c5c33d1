import { NotFoundError, UnsupportedError } from '@switchyard/core/driver';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { watchClient } from './client-watch.js';
import { DRIVER, mapError } from './errors.js';
import { copyOptions } from './properties.js';

// A copy of a received message published on its own topic for its group, carrying its attempt
// count: the nack of MQTT (which has none) and the checkpoint of a resent message. The consumer
// acknowledges the original only once this resolves true, so a copy that went nowhere must say so.

/** Publishes the copy: true once the broker has it for a subscription, else why not. */
export async function publishCopy(
  client: MqttClient,
  packet: IPublishPacket,
  attempts: number,
  group: string,
  version: 4 | 5,
): Promise<true | Error> {
  if (version !== 5) {
    return new UnsupportedError('MQTT 3.1.1 cannot carry a copy’s attempt count or group', {
      driver: DRIVER,
    });
  }
  try {
    const sent = await client.publishAsync(
      packet.topic,
      packet.payload as Buffer,
      copyOptions(packet, attempts, group),
    );
    // PUBACK 0x10: no subscription matched, not even this group's (one not made yet on a resumed
    // session): the broker dropped the copy, and the original must stay.
    const sentId = (sent as { messageId?: number } | undefined)?.messageId;
    if (sentId !== undefined && watchClient(client).unmatched.delete(sentId)) {
      return new NotFoundError(
        `publish a copy on "${packet.topic}": no subscription matches it (PUBACK 0x10), so the broker dropped it`,
        { driver: DRIVER, retryable: true, details: { topic: packet.topic } },
      );
    }
    return true;
  } catch (error) {
    return mapError(error, `publish a copy on "${packet.topic}"`, version);
  }
}
