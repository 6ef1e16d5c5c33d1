import { describe, expect, it } from 'vitest';
import { isCredentialField, redact, Secret } from './secret.js';

describe('redact', () => {
  it('hides every live secret, raw and URL-encoded', () => {
    const secret = new Secret('p@ss/word-7');
    expect(redact('login p@ss/word-7 failed; url user:p%40ss%2Fword-7@h')).toBe(
      'login [redacted] failed; url user:[redacted]@h',
    );
    expect(secret.reveal()).toBe('p@ss/word-7');
  });

  it('hides a URL password even when it is not encoded (/ or @ in it)', () => {
    expect(redact('not a valid broker URL: "amqp://u:pa/ss@h:5672/v"')).toBe(
      'not a valid broker URL: "amqp://u:[redacted]@h:5672/v"',
    );
    expect(redact('amqp://u:pa@ss@h and http://x:y@z')).toBe(
      'amqp://u:[redacted]@h and http://x:[redacted]@z',
    );
  });

  it('hides credential query parameters of every driver, plain and percent-encoded', () => {
    // Never registered as Secrets: the text alone must give them away.
    expect(
      redact(
        'not a valid broker URL: "pulsar-http+http://h:99999?region=r&secretKey=k1%25x&token=k2&sessionToken=k3"',
      ),
    ).toBe(
      'not a valid broker URL: "pulsar-http+http://h:99999?region=r&secretKey=[redacted]&token=[redacted]&sessionToken=[redacted]"',
    );
    expect(redact('x?access_key=a1&SECRET-KEY=a2;password=a3 securityToken=a4 secretId=AKID')).toBe(
      'x?access_key=[redacted]&SECRET-KEY=[redacted];password=[redacted] securityToken=[redacted] secretId=AKID',
    );
    expect(redact(encodeURIComponent('pulsar-http+http://h?region=r&secretKey=k1%x&mode=raw'))).toBe(
      'pulsar-http%2Bhttp%3A%2F%2Fh%3Fregion%3Dr%26secretKey%3D[redacted]%26mode%3Draw',
    );
  });

  it('hides a percent-encoded URL password, and the user where it is the credential', () => {
    expect(redact(encodeURIComponent('amqp://user:p@ss@host/v'))).toBe(
      'amqp%3A%2F%2Fuser%3A[redacted]%40host%2Fv',
    );
    expect(redact('rocketmq://ROLETOKEN:ROLENAME@h:8081 pulsar+ssl://ROLETOKEN@h amqp://guest@h')).toBe(
      'rocketmq://[redacted]:[redacted]@h:8081 pulsar+ssl://[redacted]@h amqp://guest@h',
    );
    expect(redact(encodeURIComponent('rocketmq+tls://TOK:ROLE@h'))).toBe(
      'rocketmq%2Btls%3A%2F%2F[redacted]%3A[redacted]%40h',
    );
  });

  it('hides quoted credential fields in util.inspect and JSON dumps, and nothing else', () => {
    expect(
      redact(`{ secretKey: 'a\\'b', secretId: 'AKID', adminPassword: "c" } {"token":"d\\"e","key":"k1"}`),
    ).toBe(
      `{ secretKey: '[redacted]', secretId: 'AKID', adminPassword: "[redacted]" } {"token":"[redacted]","key":"k1"}`,
    );
    expect(redact('#1 id=m-1 attempt=1 key=order-7 routingKey=a.b')).toBe(
      '#1 id=m-1 attempt=1 key=order-7 routingKey=a.b',
    );
  });

  it('knows the credential fields by name, whatever the case or separator', () => {
    for (const name of [
      'password',
      'secretKey',
      'secret_key',
      'TOKEN',
      'sessionToken',
      'accessKey',
      'role',
      'tlsPassphrase',
    ])
      expect(isCredentialField(name), name).toBe(true);
    for (const name of ['secretId', 'region', 'key', 'user', 'username', 'passwordFile'])
      expect(isCredentialField(name), name).toBe(false);
  });

  it('forgets a secret once no Secret holds it, so redact() stays cheap', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const value = `short-lived-${Math.random()}`;
    // A scope of its own, so nothing keeps the Secret alive.
    (() => {
      new Secret(value);
    })();
    expect(redact(value)).toBe('[redacted]');
    if (gc === undefined) {
      // Without --expose-gc the collector decides when; make plenty of garbage and wait.
      for (let round = 0; round < 50 && redact(value) !== value; round++) {
        for (let i = 0; i < 2_000; i++) new Secret(`garbage-${round}-${i}`);
        const junk = Array.from({ length: 200_000 }, (_, i) => ({ i }));
        junk.length = 0;
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      gc();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(redact(value)).toBe(value);
  });
});
