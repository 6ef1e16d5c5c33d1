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
export { RemotingBroker, type RemotingBrokerOptions } from './remoting/broker.js';
export { type RemotingServer, type RemotingServerOptions, startRemotingServer } from './remoting/server.js';
export {
  type AppendInput,
  type GroupInfo,
  RocketMqEngine,
  type RocketMqEngineOptions,
  type RocketMqSnapshot,
  type TopicInfo,
} from './rocketmq/engine.js';
export type { GroupConfig, MessageType, StoredMessage, TopicConfig, TopicType } from './rocketmq/model.js';
export { type RocketMqServer, type RocketMqServerOptions, startRocketMqServer } from './rocketmq/server.js';
export { RocketMqService, type RocketMqServiceOptions } from './rocketmq/service.js';
export { CODES as rocketMqCodes, RocketMqError } from './rocketmq/statuses.js';
export {
  createProtocolServer,
  type ProtocolServer,
  type ProtocolServerOptions,
} from './server/protocol-server.js';
export { ReplayGuard, type ReplayGuardOptions } from './server/replay-guard.js';
export {
  type AuthOptions,
  DEFAULT_CREDENTIALS,
  type EmulatorOptions,
  type RemotingOptions,
  type RocketMqOptions,
  type RunningEmulator,
  startEmulator,
} from './start.js';
export { createTcApiHandler, type TcApiHandler, type TcApiHandlerOptions } from './tcapi/handler.js';
