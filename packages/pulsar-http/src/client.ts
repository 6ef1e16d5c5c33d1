import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import type { PulsarHttpConfig } from './config.js';
import { mapError } from './errors.js';
import { Limiter } from './limiter.js';

// Only the TDMQ client module is loaded (≈40 ms, 117 modules), not the SDK's 261 products.
const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

export type TdmqClientType = Client;

/**
 * The SDK client plus what every call needs: bounded concurrency, an explicit keep-alive agent and
 * error mapping. Secrets are revealed only here, when the SDK is configured.
 */
export class Api {
  readonly sdk: Client;
  readonly #limiter: Limiter;
  readonly #agent: http.Agent | undefined;

  constructor(config: PulsarHttpConfig) {
    // An explicit agent pools connections and also switches off the SDK's fallback to
    // $http_proxy (fetch.js uses the proxy only when no agent is given).
    const own = config.agent === undefined;
    const agent =
      (config.agent as http.Agent | undefined) ??
      (config.protocol === 'http'
        ? new http.Agent({ keepAlive: true, maxSockets: config.maxConcurrency + 8 })
        : new https.Agent({ keepAlive: true, maxSockets: config.maxConcurrency + 8 }));
    this.#agent = own ? agent : undefined;
    const { secretId, secretKey, sessionToken } = config;
    this.sdk = new TdmqClient({
      // A credential provider: the SDK asks for the key at signing time, so the client that
      // broker.unwrap() hands out holds no plain secret for util.inspect or a debugger to show.
      credential: {
        getCredential: async () => ({
          secretId: secretId.reveal(),
          secretKey: secretKey.reveal(),
          ...(sessionToken ? { token: sessionToken.reveal() } : {}),
        }),
      } as never,
      region: config.region,
      profile: {
        httpProfile: {
          endpoint: config.endpoint,
          protocol: `${config.protocol}://`,
          reqMethod: 'POST',
          reqTimeout: Math.ceil(config.requestTimeoutMs / 1000),
          agent,
        },
      },
    });
    this.#limiter = new Limiter(config.maxConcurrency);
  }

  /** One API call, counted against maxConcurrency; rejects only with a SwitchyardError. */
  call<T = Record<string, unknown>>(action: string, request: object, signal?: AbortSignal): Promise<T> {
    return this.#limiter.run(() => this.direct<T>(action, request, signal));
  }

  /** A call outside the concurrency bound (long polls must not starve sends and acks). */
  async direct<T = Record<string, unknown>>(
    action: string,
    request: object,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return (await this.sdk.request(action, request, signal ? { signal } : {})) as T;
    } catch (error) {
      throw mapError(error, action);
    }
  }

  close(): void {
    this.#agent?.destroy();
  }
}
