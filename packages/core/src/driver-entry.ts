// @switchyard/core/driver: what a driver author needs, apart from the service API. The contract
// (driver.ts states every method's promises and which calls may overlap), the capability object,
// the error family with its portable codes, and the helpers every driver would otherwise write
// again: config parsing with schema errors that name the field, URL parts, backoff, envelopes and
// body checks. The behaviour suite every driver must pass is @switchyard/conformance.

export { isAborted, offAbort, onAbortOnce } from './aborted.js';
export { type BackoffPolicy, backoffDelay, defaultRetryPolicy, retry, sleep } from './backoff.js';
export { type BatchLimits, batchEnd, outgoingBytes, splitBatches } from './batch-limits.js';
export {
  BINARY,
  decodeText,
  encodeBody,
  impliedContentType,
  isUtf8,
  JSON_TYPE,
  TEXT,
  utf8,
} from './body.js';
export {
  type Capabilities,
  capabilityDescriptions,
  defineCapabilities,
  type Feature,
  requireCapability,
} from './capabilities.js';
export { type CloudApiCredential, cloudApiCredential } from './cloud-api-credential.js';
export {
  boolParam,
  decodeUrlPart,
  intParam,
  parseWithSchema,
  queryToObject,
  validateName,
} from './config.js';
export { type CopyNackSteps, CopyNacks } from './copy-nack.js';
export {
  type Credential,
  type CredentialFunction,
  type CredentialInput,
  type CredentialParts,
  type CredentialSource,
  credentialSourceSchema,
} from './credential-sources.js';
export { CredentialProvider, type CredentialProviderOptions } from './credentials.js';
export type {
  DestinationStats,
  Driver,
  DriverAdmin,
  DriverCloseOptions,
  DriverConsumer,
  DriverConsumerOptions,
  DriverContext,
  DriverFilter,
  DriverModule,
  DriverProducer,
  DriverProducerOptions,
  DriverReplyInbox,
  PeekedMessage,
  ProbeDetails,
  RequeueCopy,
} from './driver.js';
export {
  decodeEnvelope,
  type EnvelopeFields,
  type EnvelopeLimit,
  encodeCopyEnvelope,
  encodeEnvelope,
  envelopeBodyLimit,
  plainTextDelivery,
  plainTextFields,
} from './envelope.js';
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
export { KeyHold } from './key-hold.js';
export { type LeaseSlot, Leases } from './leases.js';
export type { Logger } from './logger.js';
export type { Delivery, Outgoing, Receipt } from './message-types.js';
/** Node socket and DNS error codes that mean the peer is unreachable (map them to UNAVAILABLE). */
export { isNetworkErrorCode, isTlsErrorCode } from './network-codes.js';
export { filterMatches, routingKeyMatches } from './patterns.js';
export { PendingReceive, type ReceiveOutcome } from './pending-receive.js';
export { ReceivesAhead, type ReceivesAheadOptions } from './receives-ahead.js';
export { PolledReplyInbox, type PolledReplyInboxOptions, replyConsumerOptions } from './reply-inbox.js';
export { redact, Secret } from './secret.js';
export { anchorShape } from './shape-anchor.js';
export type { StatusEvent } from './status.js';
export { Waiters } from './waiters.js';
