// The options every rocketmq-client gets from the driver config: endpoint, namespace field,
// credentials in TDMQ's order, timeouts and a logger that forwards to Switchyard's (the client's
// default logger writes files under $HOME).

import type { Logger } from '@switchyard/core/driver';
import type { BaseClientOptions } from 'rocketmq-client-nodejs';
import type { RocketMqConfig } from './config.js';
import { clientNamespace } from './naming.js';

export interface ClientFactory {
  base(): BaseClientOptions;
  readonly startupTimeoutMs: number;
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
  return {
    startupTimeoutMs: config.startupTimeoutMs,
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
