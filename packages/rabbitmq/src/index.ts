// @switchyard/rabbitmq: RabbitMQ and TDMQ for RabbitMQ on amqplib. Core's registry imports this
// package lazily for amqp:// and amqps:// URLs and reads `driver`.

export { rabbitCapabilities, rabbitmqCapabilities, rabbitmqQuorumCapabilities } from './capabilities.js';
export { parseConfig, type RabbitConfig, type RabbitConfigInput } from './config.js';
export { delayLevels, maxDelayMs } from './delay.js';
export { driver, RabbitDriver } from './driver.js';
export { mapError } from './errors.js';
export { ATTEMPTS_HEADER, KEY_HEADER } from './properties.js';
export { fromUrl } from './url.js';

// The augmentation below needs '@switchyard/core' in the program: the sources import only
// '@switchyard/core/driver', and a module nothing imports cannot be augmented (TS2664 in the build).
import type {} from '@switchyard/core';
import type { RabbitConfigInput } from './config.js';

// connect({ driver: 'rabbitmq', ... }) checks these fields in any program that imports this package.
declare module '@switchyard/core' {
  interface DriverConfigs {
    rabbitmq: Omit<RabbitConfigInput, 'driver'>;
  }
}
