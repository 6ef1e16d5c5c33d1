// @switchyard/pulsar-http: TDMQ Pulsar over the Tencent Cloud API (SendMessages,
// SendBatchMessages, ReceiveMessage, AcknowledgeMessage) through tencentcloud-sdk-nodejs.

export { SEPARATOR, splitPayloads } from './batch-split.js';
export {
  envelopeCapabilities,
  MAX_PAYLOAD_BYTES,
  packedCapabilities,
  rawCapabilities,
} from './capabilities.js';
export { fromUrl, type PulsarHttpConfig, type PulsarHttpConfigInput, parseConfig } from './config.js';
export { driver } from './driver.js';
export { mapError } from './errors.js';
export { qualifyTopic, retryTopicName, type TopicName } from './naming.js';
