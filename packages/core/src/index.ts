// @switchyard/core: the portable API. Drivers implement ./driver.ts; services use the rest.

export type { AttemptStore } from './attempt-store.js';
export { AttemptTracker } from './attempts.js';
export type { Body, JsonValue } from './body.js';
export { Broker } from './broker.js';
export { type CapabilityColumn, capabilityTable } from './capability-table.js';
export {
  type CloudEventLike,
  type CloudEventsCodec,
  type CloudEventsMode,
  cloudEvents,
  cloudEventsFor,
  type ReceivedCloudEvent,
} from './cloudevents.js';
export { type CloudEventsBinding, cloudEventsBindings } from './cloudevents-mapping.js';
export type { ConsumerOptions, ProducerOptions } from './config.js';
export { type BrokerConfig, type ConnectOptions, connect } from './connect.js';
export {
  type BatchHandler,
  type BatchOutcome,
  type BatchRunOptions,
  Consumer,
  type Handler,
  type ReceiveOptions,
} from './consumer.js';
export { DeadLetterHeaders, deadLetterHeaders } from './dead-letter.js';
export type { DriverConfig, DriverConfigs, PortableBrokerFields } from './driver-configs.js';
// What driver authors use (the contract, capabilities, errors, helpers) is also part of this
// entry point, so services can branch on error codes and read capabilities; drivers import it
// from @switchyard/core/driver, which holds nothing else.
export * from './driver-entry.js';
export type { Health, HealthOptions } from './health.js';
export { silentLogger } from './logger.js';
export {
  type MemoryConfig,
  memoryCapabilities,
  memoryDriver,
  minimalMemoryCapabilities,
} from './memory/driver.js';
export { MemoryStore } from './memory/store.js';
export { Message, type MessageState } from './message.js';
export type { OutgoingMessage } from './message-types.js';
export { Producer, type SendInput, type SendOptions } from './producer.js';
export { driverForScheme, knownDrivers, loadDriver, registerDriver } from './registry.js';
export { CORRELATION_ID_HEADER, REPLY_TO_HEADER, type RequestOptions } from './replies.js';
export { CREDENTIAL_FIELDS, isCredentialField } from './secret.js';
export type { StatusListener, StatusStream } from './status.js';

// Bindings: config file, fromConfig, dual-write, dual-read (packages/core/src/bindings).

export * from './bindings/index.js';
export { openTelemetryApi } from './telemetry/api-access.js';
// Telemetry: OpenTelemetry tracing + metrics (optional peer), log redaction (docs/observability.md).
export { TelemetryAttributes } from './telemetry/attributes.js';
export type { TelemetryOptions } from './telemetry/config.js';
export { redactingLogger } from './telemetry/logging.js';
export { messageContext, type TraceContext } from './telemetry/message-context.js';
export { MetricNames } from './telemetry/metric-names.js';
