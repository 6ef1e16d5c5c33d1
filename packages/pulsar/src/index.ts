// @switchyard/pulsar: the native Pulsar driver for Switchyard, for Apache Pulsar and TDMQ Pulsar
// over the binary protocol, on pulsar-client (an optional peer dependency, loaded on connect).
// `connect('pulsar://token:ROLE_TOKEN@host:6650?cluster=pulsar-xxx&namespace=ns')`.

export { isMultiConsumer, MAX_DELAY_MS, pulsarCapabilities } from './capabilities.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  fromUrl,
  type PulsarConfig,
  type PulsarConfigInput,
  parseConfig,
  SUBSCRIPTION_TYPES,
} from './config.js';
export {
  capabilitiesFor,
  createPulsarDriver,
  driver,
  type PulsarNative,
  pulsarDriverModule,
} from './driver.js';
export { classifyResult, mapError, resultName } from './errors.js';
export {
  CPP_SETUP_URL,
  loadPulsarClient,
  missingPackageError,
  PULSAR_CLIENT_PACKAGE,
  type PulsarLoader,
} from './load-client.js';
export { CONTENT_TYPE_PROPERTY } from './messages.js';
export { qualifyTopic } from './naming.js';
export type * from './native-api.js';
export { clientConfig, consumerConfig, MIN_ACK_TIMEOUT_MS, producerConfig } from './options.js';

// The augmentation below needs '@switchyard/core' in the program: the sources import only
// '@switchyard/core/driver', and a module nothing imports cannot be augmented (TS2664 in the build).
import type {} from '@switchyard/core';
import type { PulsarConfigInput } from './config.js';

// connect({ driver: 'pulsar', ... }) checks these fields in any program that imports this package.
declare module '@switchyard/core' {
  interface DriverConfigs {
    pulsar: Omit<PulsarConfigInput, 'driver'>;
  }
}
