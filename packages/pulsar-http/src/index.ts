// @switchyard/pulsar-http: TDMQ Pulsar over the Tencent Cloud API (SendMessages,
// SendBatchMessages, ReceiveMessage, AcknowledgeMessage) through tencentcloud-sdk-nodejs-common.

export { SEPARATOR, splitPayloads } from './batch-split.js';
export {
  type CapabilityOptions,
  envelopeCapabilities,
  MAX_ENVELOPE_BODY_BYTES,
  MAX_PAYLOAD_BYTES,
  type NackMode,
  packedCapabilities,
  pulsarHttpCapabilities,
  rawCapabilities,
} from './capabilities.js';
export { fromUrl, type PulsarHttpConfig, type PulsarHttpConfigInput, parseConfig } from './config.js';
export { driver } from './driver.js';
export { mapError } from './errors.js';
export { qualifyTopic, retryTopicName, type TopicName } from './naming.js';
export { RETRY_ATTEMPTS_HEADER } from './retry-topic.js';

// The augmentation below needs '@switchyard/core' in the program: the sources import only
// '@switchyard/core/driver', and a module nothing imports cannot be augmented (TS2664 in the build).
import type {} from '@switchyard/core';
import type { PulsarHttpConfigInput } from './config.js';

// connect({ driver: 'pulsar-http', ... }) checks these fields in any program that imports this package.
declare module '@switchyard/core' {
  interface DriverConfigs {
    'pulsar-http': Omit<PulsarHttpConfigInput, 'driver'>;
  }
}
