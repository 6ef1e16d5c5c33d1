// @switchyard/nestjs: Switchyard as a NestJS microservice transport. The server strategy runs
// @EventPattern and @MessagePattern handlers on Switchyard destinations, the client proxy emits
// events and sends requests (request-reply), and the health helpers give @nestjs/terminus and
// plain HTTP probes the broker's real state, on every flavour the URL picks.

export { SwitchyardClient } from './client.js';
export { ERROR_HEADER } from './codec.js';
export { SwitchyardContext } from './context.js';
export { healthResponse, switchyardHealth } from './health.js';
export type { BrokerSource, SwitchyardClientOptions, SwitchyardServerOptions } from './options.js';
export { SWITCHYARD_TRANSPORT, SwitchyardServer } from './server.js';
