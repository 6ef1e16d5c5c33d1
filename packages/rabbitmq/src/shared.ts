import type { Logger } from '@switchyard/core/driver';
import type { RabbitConfig } from './config.js';
import type { ConnectionManager } from './connection.js';
import type { DelayTarget } from './delay.js';
import type { Publisher } from './publisher.js';

/** What a driver instance shares with its producers and consumers. */
export interface Shared {
  readonly config: RabbitConfig;
  readonly manager: ConnectionManager;
  readonly logger: Logger;
  /** Declares the delay levels (once); classic levels also bind `target` to the deliver exchange (once each). */
  ensureDelay(target: DelayTarget, deadline: number): Promise<void>;
  /** A confirm-channel publisher for the driver's own republishing (delayed nacks). */
  readonly republisher: Publisher;
}
