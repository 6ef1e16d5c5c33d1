// The options every rocketmq-client gets from the driver config: endpoint, namespace field,
// credentials in TDMQ's order, timeouts and a logger that forwards to Switchyard's (the client's
// default logger writes files under $HOME).

import type { Logger } from '@switchyard/core/driver';
import type { BaseClientOptions } from 'rocketmq-client-nodejs';
import type { RocketMqConfig } from './config.js';
import { mapError } from './errors.js';
import type { LiveCredentials } from './live-credentials.js';
import { clientNamespace } from './naming.js';

export interface ClientFactory {
  base(): BaseClientOptions;
  readonly startupTimeoutMs: number;
  /**
   * Runs a call once more when the broker refused it as unauthenticated and the credentials source
   * now has another role token (rotated before the provider noticed): a refused call did nothing.
   */
  retryRefused<T>(run: () => Promise<T>): Promise<T>;
}

export function clientFactory(config: RocketMqConfig, logger: Logger): ClientFactory {
  const clientLogger = {
    // The client logs every retry and reconnect at info/warn; those are debug noise for a
    // service, which sees failures as errors from the driver instead.
    info: (...args: unknown[]) => logger.debug({ client: 'rocketmq' }, formatLog(args)),
    debug: (...args: unknown[]) => logger.debug({ client: 'rocketmq' }, formatLog(args)),
    warn: (...args: unknown[]) => logger.debug({ client: 'rocketmq' }, formatLog(args)),
    error: (...args: unknown[]) => logger.debug({ client: 'rocketmq', level: 'error' }, formatLog(args)),
  };
  const live = config.credentials as LiveCredentials | undefined;
  return {
    startupTimeoutMs: config.startupTimeoutMs,
    async retryRefused<T>(run: () => Promise<T>): Promise<T> {
      const renew = live?.renew;
      if (renew === undefined) return run();
      const used = live?.accessKey.reveal() ?? '';
      try {
        return await run();
      } catch (error) {
        if (mapError(error, 'call').code !== 'UNAUTHENTICATED' || !(await renew(used))) throw error;
        return run();
      }
    },
    base() {
      const options: BaseClientOptions = {
        endpoints: config.endpoints,
        namespace: clientNamespace(config),
        requestTimeout: config.requestTimeoutMs,
        sslEnabled: config.tls,
        logger: clientLogger,
      };
      const credentials = config.credentials;
      if (credentials !== undefined) {
        // TDMQ: the access key is the role token, the secret key the role name. Getters: the
        // client reads them each time it signs a call, so a token rotated by the credentials
        // source (live-credentials.ts) is used from the next call on.
        const session = {
          get accessKey() {
            return credentials.accessKey.reveal();
          },
          get accessSecret() {
            return credentials.secretKey.reveal();
          },
        };
        options.sessionCredentials =
          config.securityToken === undefined
            ? session
            : Object.defineProperty(session, 'securityToken', {
                value: config.securityToken.reveal(),
                enumerable: true,
              });
      }
      return options;
    },
  };
}

function formatLog(args: unknown[]): string {
  const [format, ...rest] = args;
  if (typeof format !== 'string') return args.map(String).join(' ');
  let i = 0;
  return format.replace(/%[sdjo]/g, () => String(rest[i++]));
}
