// Attribute keys of the OpenTelemetry messaging semantic conventions (v1.27+ names), and the few
// Switchyard adds where the conventions have no generic attribute.

export const TelemetryAttributes = Object.freeze({
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  group: 'messaging.consumer.group.name',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  /** The conventions only define per-system delivery counts; this one is portable. */
  deliveryAttempt: 'switchyard.message.delivery_attempt',
  /** The client-side id when the broker assigned a different messaging.message.id. */
  clientMessageId: 'switchyard.message.client_id',
  /** 'acked' | 'nacked' | 'dead-lettered' | 'released' (given back unsettled on close). */
  settlement: 'switchyard.settlement',
  /** 'headers' | 'skipped-no-headers' | 'skipped-size' : whether trace context was injected. */
  propagation: 'switchyard.propagation',
});
