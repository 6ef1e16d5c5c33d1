// @switchyard/core: the portable API. Drivers implement ./driver.ts; services use the rest.

export { type BackoffPolicy, backoffDelay, defaultRetryPolicy, retry, sleep } from './backoff.js';
export {
  BINARY,
  type Body,
  decodeText,
  encodeBody,
  impliedContentType,
  isUtf8,
  JSON_TYPE,
  type JsonValue,
  TEXT,
  utf8,
} from './body.js';
export { Broker } from './broker.js';
export {
  type Capabilities,
  capabilityDescriptions,
  defineCapabilities,
  type Feature,
  requireCapability,
} from './capabilities.js';
export { type CapabilityColumn, capabilityTable } from './capability-table.js';
export {
  type ConsumerOptions,
  decodeUrlPart,
  type ProducerOptions,
  parseWithSchema,
  queryToObject,
  validateName,
} from './config.js';
export { type BrokerConfig, type ConnectOptions, connect } from './connect.js';
export { Consumer, type Handler } from './consumer.js';
export { DeadLetterHeaders, deadLetterHeaders } from './dead-letter.js';
export type {
  Driver,
  DriverConsumer,
  DriverConsumerOptions,
  DriverContext,
  DriverFilter,
  DriverModule,
  DriverProducer,
  DriverProducerOptions,
} from './driver.js';
export { decodeEnvelope, type EnvelopeFields, encodeEnvelope } from './envelope.js';
export {
  AlreadyExistsError,
  ClosedError,
  ConfigError,
  ErrorCode,
  errorAs,
  errorCode,
  InternalError,
  InvalidArgumentError,
  isRetryable,
  isSwitchyardError,
  MessageTooLargeError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  SwitchyardError,
  type SwitchyardErrorOptions,
  TimeoutError,
  toSwitchyardError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedError,
} from './errors.js';
export { newMessageId } from './ids.js';
export { type Logger, silentLogger } from './logger.js';
export {
  type MemoryConfig,
  memoryCapabilities,
  memoryDriver,
  minimalMemoryCapabilities,
} from './memory/driver.js';
export { MemoryStore } from './memory/store.js';
export { Message, type MessageState } from './message.js';
export type { Delivery, Outgoing, OutgoingMessage, Receipt } from './message-types.js';
export { filterMatches, routingKeyMatches } from './patterns.js';
export { Producer, type SendInput } from './producer.js';
export { driverForScheme, knownDrivers, loadDriver, registerDriver } from './registry.js';
export { CREDENTIAL_FIELDS, isCredentialField, redact, Secret } from './secret.js';
export type { StatusEvent, StatusListener } from './status.js';

// Bindings: config file, fromConfig, dual-write, dual-read (packages/core/src/bindings).

export * from './bindings/index.js';
export { openTelemetryApi } from './telemetry/api-access.js';
// Telemetry: OpenTelemetry tracing + metrics (optional peer), log redaction (docs/observability.md).
export { TelemetryAttributes } from './telemetry/attributes.js';
export type { TelemetryOptions } from './telemetry/config.js';
export { redactingLogger } from './telemetry/logging.js';
export { messageContext, type TraceContext } from './telemetry/message-context.js';
export { MetricNames } from './telemetry/metric-names.js';
