// The role token from a credential provider, for both transports. Both sign every request when it
// is sent (gRPC: the client reads `sessionCredentials.accessKey` per call; Remoting: the pool signs
// each command), so the driver hands them a credentials object whose accessKey is read from the
// provider at that moment: a rotated token takes effect on the next request, and new connections
// use it too. Reading it also lets the provider start its refresh ahead of expiry or its file
// check. `renew()` is for a request the broker refused: one more ask of the provider.

import { CredentialProvider, type DriverContext, Secret } from '@switchyard/core/driver';
import type { RocketMqConfig } from './config.js';
import { DRIVER } from './errors.js';

export interface LiveCredentials {
  readonly accessKey: Secret;
  readonly secretKey: Secret;
  /**
   * After a refusal signed with `usedAccessKey`: true when the provider now has another token
   * (fetched now, or by a request that was refused just before), so sending again can help.
   */
  renew?(usedAccessKey: string): Promise<boolean>;
}

const NONE = new Secret('');

/** The config with a live credentials object in place of the placeholder, or as it is. */
export async function withLiveCredentials(
  config: RocketMqConfig,
  context: DriverContext,
): Promise<RocketMqConfig> {
  const source = config.credentialSource;
  const roleName = config.credentials?.secretKey;
  if (source === undefined || roleName === undefined) return config;
  const provider = new CredentialProvider(source, {
    driver: DRIVER,
    what: 'RocketMQ role token',
    status: (event) => context.status(event),
    logger: context.logger,
  });
  // Fetched before the clients start, so a source that cannot answer fails connect() at once.
  await provider.get();
  const live: LiveCredentials = {
    get accessKey(): Secret {
      // Synchronous for the signers: answer what the provider holds, and let get() start a
      // refresh when one is due (its rejection is reported as a status event).
      provider.get().catch(() => undefined);
      const current = provider.current;
      if (current === undefined || (current.expiresAt !== undefined && Date.now() >= current.expiresAt)) {
        // Expired with no replacement: sign with nothing, the broker refuses, the error says why.
        return NONE;
      }
      return current.secret;
    },
    secretKey: roleName,
    async renew(usedAccessKey: string): Promise<boolean> {
      const current = provider.current;
      if (current === undefined) return false;
      // The signer only kept the token it used; another request may have replaced it already.
      if (current.secret.reveal() !== usedAccessKey) return true;
      return (await provider.replacementFor(current)) !== undefined;
    },
  };
  return Object.freeze({ ...config, credentials: live });
}
