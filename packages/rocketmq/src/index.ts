// @switchyard/rocketmq: the RocketMQ driver for Switchyard, for Apache RocketMQ and TDMQ for
// RocketMQ, over gRPC (5.x: `connect('rocketmq://TOKEN:ROLE@host:8080?cluster=...&namespace=...')`)
// or Remoting (4.x: `connect('rocketmq+remoting://TOKEN:ROLE@nameserver:9876?cluster=...&namespace=...')`).

export {
  MAX_BATCH,
  MAX_INVISIBLE_MS,
  REMOTING_MAX_BATCH_BYTES,
  remotingCapabilities,
  rocketmqCapabilities,
} from './capabilities.js';
export {
  type EnsureGroup,
  fromUrl,
  parseConfig,
  type ReplyTopics,
  type RocketMqConfig,
  type RocketMqConfigInput,
  TOPIC_TYPES,
  type TopicType,
  TRANSPORTS,
  type Transport,
} from './config.js';
export { driver, type RocketMqNative } from './driver.js';
export { classifyGrpc, classifyStatus, mapError, RocketMqCode } from './errors.js';
export { CONTENT_TYPE_PROPERTY, OWN_GROUP_PROPERTY } from './messages.js';
export { clientNamespace, isFullName, type Naming, namespacePrefix, qualify } from './naming.js';
export { tagExpression, validateTag } from './tags.js';

// The augmentation below needs '@switchyard/core' in the program: the sources import only
// '@switchyard/core/driver', and a module nothing imports cannot be augmented (TS2664 in the build).
import type {} from '@switchyard/core';
import type { RocketMqConfigInput } from './config.js';

// connect({ driver: 'rocketmq', ... }) checks these fields in any program that imports this package.
declare module '@switchyard/core' {
  interface DriverConfigs {
    rocketmq: Omit<RocketMqConfigInput, 'driver'>;
  }
}
