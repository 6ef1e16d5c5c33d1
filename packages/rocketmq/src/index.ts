// @switchyard/rocketmq: the RocketMQ 5 (gRPC) driver for Switchyard, for Apache RocketMQ 5 and
// TDMQ for RocketMQ. `connect('rocketmq://TOKEN:ROLE@host:8080?cluster=...&namespace=...')`.

export { MAX_BATCH, MAX_INVISIBLE_MS, rocketmqCapabilities } from './capabilities.js';
export {
  type EnsureGroup,
  fromUrl,
  parseConfig,
  type RocketMqConfig,
  type RocketMqConfigInput,
  TOPIC_TYPES,
  type TopicType,
} from './config.js';
export { driver, type RocketMqNative } from './driver.js';
export { classifyGrpc, classifyStatus, mapError, RocketMqCode } from './errors.js';
export { CONTENT_TYPE_PROPERTY, OWN_GROUP_PROPERTY } from './messages.js';
export { clientNamespace, isFullName, type Naming, namespacePrefix, qualify } from './naming.js';
export { tagExpression, validateTag } from './tags.js';
