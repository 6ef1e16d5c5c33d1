// Bindings: named brokers and bindings from a config file, with migration modes.

export {
  DEFAULT_CONFIG_FILES,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfigFile,
  validateConfig,
} from './config-file.js';
export { type BindingConsumer, DualReadConsumer, originOf } from './dual-read.js';
export {
  type BindingProducer,
  DualWriteError,
  type DualWriteOptions,
  DualWriteProducer,
  type DualWriteRequire,
  type DualWriteStats,
} from './dual-write.js';
export {
  type BindingSide,
  Bindings,
  type FromConfigOptions,
  fromConfig,
  type ResolvedBinding,
} from './from-config.js';
export type {
  BindingEntry,
  BrokerEntry,
  BrokerRef,
  SwitchyardConfig,
  SwitchyardConfigInput,
} from './schema.js';
