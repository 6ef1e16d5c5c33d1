// Where CloudEvents attributes travel on each flavour in binary content mode: the header (broker
// property) prefix its protocol binding prescribes. docs/cloudevents.md renders this table; the
// codec (cloudevents.ts) writes the flavour's prefix and reads any of them, so events written by
// other CloudEvents SDKs over another convention are read too.

/** One flavour's binary-mode convention. */
export interface CloudEventsBinding {
  /** Prefix of each attribute's header name ('' for MQTT 5, whose binding uses the bare names). */
  readonly prefix: string;
  /** The binding (or convention) the prefix follows. */
  readonly source: string;
}

/** Kafka's convention, for flavours with no published binding of their own. */
const KAFKA: CloudEventsBinding = { prefix: 'ce_', source: 'Kafka protocol binding (no binding of its own)' };

/** By driver name; anything else uses Kafka's `ce_`. */
export const cloudEventsBindings: Readonly<Record<string, CloudEventsBinding>> = Object.freeze({
  // AMQP binding 1.0.2+: `cloudEvents_` (JMS-safe), `cloudEvents:` still read.
  rabbitmq: { prefix: 'cloudEvents_', source: 'AMQP protocol binding (application properties)' },
  // The RocketMQ binding (apache/rocketmq-externals, CloudEvents Java SDK): user properties `CE_`;
  // one driver for both transports (gRPC 5.x and Remoting 4.x).
  rocketmq: { prefix: 'CE_', source: 'RocketMQ transport binding (user properties)' },
  // MQTT 5 binding: user properties named exactly as the attributes.
  mqtt: { prefix: '', source: 'MQTT protocol binding (MQTT 5 user properties)' },
  pulsar: KAFKA,
  'pulsar-http': KAFKA,
  cmq: KAFKA,
  memory: KAFKA,
});

export function bindingFor(driver: string): CloudEventsBinding {
  return cloudEventsBindings[driver] ?? KAFKA;
}

/**
 * Prefixes a binary-mode reader tries, after the flavour's own: every binding's, so an event a
 * Kafka-, HTTP- or AMQP-style producer wrote is read whatever flavour carried it.
 */
export const KNOWN_PREFIXES: readonly string[] = ['ce_', 'ce-', 'cloudEvents_', 'cloudEvents:', 'CE_', ''];

/** The structured-mode media type (JSON event format). */
// Written as the JS SDK writes it: its HTTP reader matches the media type string exactly.
export const STRUCTURED_TYPE = 'application/cloudevents+json; charset=utf-8';

/** Context attributes of CloudEvents 1.0 other than data; every other attribute is an extension. */
export const CONTEXT_ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
] as const;

/** CloudEvents attribute names: lower-case letters and digits (the spec recommends ≤ 20). */
export const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;
