import { InvalidArgumentError } from '@switchyard/core/driver';
import { DRIVER } from './errors.js';

// A destination is an MQTT topic name ("orders", "devices/42/telemetry"). A message's routing key
// extends it by topic levels: words joined by "." become levels joined by "/", so the routing key
// "eu.paris" of a message sent to "orders" is published on "orders/eu/paris", where a plain MQTT
// client sees and filters it as usual. Consumer filters translate the same way: `*` is MQTT's `+`,
// a trailing `#` is MQTT's `#` (which, as in AMQP, also matches zero further levels).

const encoder = new TextEncoder();

/** True when `text` has one of `chars` or a NUL (which MQTT forbids in every UTF-8 string). */
function has(text: string, chars: string): boolean {
  return text.includes('\0') || [...chars].some((c) => text.includes(c));
}

function invalid(message: string, field: string): InvalidArgumentError {
  return new InvalidArgumentError(message, { driver: DRIVER, details: { fields: [field] } });
}

/** A topic name: non-empty, no wildcards or NUL, not a `$` (broker-reserved) topic, ≤ 65535 bytes. */
export function checkTopic(topic: string, field: string): void {
  if (topic === '') throw invalid(`${field}: an MQTT topic must not be empty`, field);
  if (has(topic, '+#')) {
    throw invalid(
      `${field} "${topic}": an MQTT topic name must not contain + # or NUL (wildcards belong in consumer filters)`,
      field,
    );
  }
  if (topic.startsWith('$')) {
    throw invalid(
      `${field} "${topic}": topics starting with $ are reserved for the broker ($SYS, $share)`,
      field,
    );
  }
  if (encoder.encode(topic).length > 65_535)
    throw invalid(`${field}: an MQTT topic is at most 65535 bytes`, field);
}

/** A consumer group, used as the share name of `$share/<group>/<filter>`. */
export function checkGroup(group: string): void {
  if (group === '' || has(group, '/+#')) {
    throw invalid(
      `group "${group}": an MQTT shared-subscription name must be non-empty without / + # or NUL`,
      'group',
    );
  }
}

/** The topic a message with this routing key is published on. */
export function topicFor(destination: string, routingKey: string | undefined): string {
  if (routingKey === undefined || routingKey === '') return destination;
  if (has(routingKey, '/+#')) {
    throw invalid(
      `routingKey "${routingKey}": words are joined by "." and become MQTT topic levels; / + # and NUL are not allowed`,
      'routingKey',
    );
  }
  return `${destination}/${routingKey.split('.').join('/')}`;
}

/** The routing key of a message that arrived on `topic` for a consumer of `source`. */
export function routingKeyOf(source: string, topic: string): string | undefined {
  // Compared in place: a `${source}/` string per delivery was garbage (issue 18).
  if (topic.length <= source.length || topic.charCodeAt(source.length) !== 0x2f || !topic.startsWith(source))
    return undefined;
  // One string for the levels, not an array of them and a join (issue 18).
  return topic.slice(source.length + 1).replaceAll('/', '.');
}

/** MQTT topic filters for a consumer of `source` with these routing-key patterns. */
export function topicFilters(source: string, routingKeys: readonly string[] | undefined): string[] {
  // No pattern: the source topic and every topic below it (`source/#` matches `source` too).
  if (routingKeys === undefined || routingKeys.length === 0) return [`${source}/#`];
  return routingKeys.map((pattern) => {
    const words = pattern.split('.');
    words.forEach((word, i) => {
      const ok = word === '*' || (word === '#' && i === words.length - 1) || !has(word, '/+#*');
      if (!ok) {
        throw invalid(
          `filter.routingKeys "${pattern}": MQTT filters take "*" for one word anywhere and "#" only as the last word`,
          'filter.routingKeys',
        );
      }
    });
    return `${source}/${words.map((w) => (w === '*' ? '+' : w)).join('/')}`;
  });
}
