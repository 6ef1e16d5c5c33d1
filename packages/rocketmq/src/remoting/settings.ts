import type { Logger, Secret } from '@switchyard/core/driver';
import type { DelayMode } from './messages.js';

/** What the Remoting transport takes from the driver config. */
export interface RemotingSettings {
  /** Name server `host:port`. */
  readonly nameServer: string;
  readonly credentials: { readonly accessKey: Secret; readonly secretKey: Secret } | undefined;
  readonly securityToken: Secret | undefined;
  readonly requestTimeoutMs: number;
  /** Broker hold time of a pull with nothing new (suspendTimeoutMillis). */
  readonly longPollMs: number;
  readonly invisibleDurationMs: number;
  readonly delayMode: DelayMode;
  readonly producerGroup: string;
  /** Send-backs beyond this go to %DLQ%<group> (broker side); 16 is the broker's default. */
  readonly maxReconsumeTimes: number;
  readonly rebalanceIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly routeRefreshMs: number;
  readonly offsetPersistMs: number;
  readonly logger: Logger;
}
