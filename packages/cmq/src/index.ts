// @switchyard/cmq: the Switchyard driver for Tencent CMQ / TDMQ for CMQ. core's registry loads
// this package for `cmq+http(s)://` URLs and `{ driver: 'cmq' }` configs and uses `driver`.

export {
  type CapabilityInputs,
  cmqCapabilities,
  defaultCmqCapabilities,
  MAX_BATCH_BYTES,
  MAX_BATCH_COUNT,
} from './capabilities.js';
export type { BodyMode, CmqMessage } from './codec.js';
export { type CmqConfig, type CmqConfigInput, defaultEndpoint, parseConfig } from './config.js';
export { CmqDriver, type CmqNative, driver } from './driver.js';
export { CmqServerError, cmqError } from './errors.js';
export { CmqHttpClient, flatten } from './http-client.js';
export { CmqManagement } from './management.js';
export { CMQ_NAME_RULE, checkCmqName, groupQueueName, isCmqName } from './names.js';
export { signature, stringToSign } from './sign.js';
export { fromUrl } from './url.js';

// The augmentation below needs '@switchyard/core' in the program: the sources import only
// '@switchyard/core/driver', and a module nothing imports cannot be augmented (TS2664 in the build).
import type {} from '@switchyard/core';
import type { CmqConfigInput } from './config.js';

// connect({ driver: 'cmq', ... }) checks these fields in any program that imports this package.
declare module '@switchyard/core' {
  interface DriverConfigs {
    cmq: Omit<CmqConfigInput, 'driver'>;
  }
}
