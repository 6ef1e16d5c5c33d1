// Public surface of @switchyard/emulator.

export { CmqEngine, type CmqEngineOptions, type CmqSnapshot } from './cmq/engine.js';
export { CmqError, cmqErrors } from './cmq/errors.js';
export { CmqHandler, type CmqHandlerOptions } from './cmq/handler.js';
export { signParams, stringToSign } from './cmq/signature.js';
export type * from './cmq/types.js';
export type * from './contracts.js';
export { systemClock } from './contracts.js';
export { type FaultSettings, Faults } from './faults/injector.js';
export { FaultConfigError, type FaultRule, type FaultRuleInput, parseFaultFlag } from './faults/rules.js';
export {
  createProtocolServer,
  type ProtocolServer,
  type ProtocolServerOptions,
} from './server/protocol-server.js';
export { DEFAULT_CREDENTIALS, type EmulatorOptions, type RunningEmulator, startEmulator } from './start.js';
export { createTcApiHandler, type TcApiHandler, type TcApiHandlerOptions } from './tcapi/handler.js';
