// The credential object the Tencent Cloud API 3.0 SDKs sign with (tencentcloud-sdk-nodejs-common's
// `credential: { getCredential }`), fed from a CredentialProvider. The SDK asks for it when it signs
// each request, so a refreshed temporary key is used from the next request on, and the client a
// driver hands out (broker.unwrap()) holds no plain secret for util.inspect or a debugger to show.
// Every driver on the Cloud API (CMQ management, Pulsar over HTTP) signs this way.

import type { CredentialProvider } from './credentials.js';

/** What the SDK's `getCredential()` answers: the TC3 key pair, and the STS token when there is one. */
export interface CloudApiCredential {
  readonly secretId: string;
  readonly secretKey: string;
  readonly token?: string;
}

/** A `credential` option for a Tencent Cloud SDK client, asking `provider` at signing time. */
export function cloudApiCredential(provider: CredentialProvider): {
  getCredential(): Promise<CloudApiCredential>;
} {
  return {
    getCredential: async () => {
      const c = await provider.get();
      return {
        secretId: c.id ?? '',
        secretKey: c.secret.reveal(),
        ...(c.token === undefined ? {} : { token: c.token.reveal() }),
      };
    },
  };
}
