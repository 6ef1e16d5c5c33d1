/** The instruments Switchyard records (OpenTelemetry messaging conventions where they exist). */
export const MetricNames = Object.freeze({
  sent: 'messaging.client.sent.messages',
  consumed: 'messaging.client.consumed.messages',
  acked: 'switchyard.messages.acked',
  nacked: 'switchyard.messages.nacked',
  deadLettered: 'switchyard.messages.dead_lettered',
  errors: 'switchyard.errors',
  sendDuration: 'messaging.client.operation.duration',
  endToEnd: 'switchyard.message.end_to_end.duration',
  processDuration: 'messaging.process.duration',
  lag: 'switchyard.consumer.lag',
});
