// A config file's `credentials` source names environment variables and files; those names are not
// secrets, so they are neither warned about as inline secrets nor scrubbed from messages.

import { describe, expect, it } from 'vitest';
import { validateConfig } from './bindings/config-file.js';
import { redact } from './secret.js';

describe('credentials in a config file', () => {
  it('env and file sources hold names, not secrets: no inline-secret warning, nothing registered', () => {
    const loaded = validateConfig({
      brokers: {
        main: {
          driver: 'rabbitmq',
          username: 'orders-service',
          credentials: { file: { secret: '/var/run/secrets/tdmq/role-token-file' } },
        },
        api: {
          driver: 'pulsar-http',
          region: 'ap-guangzhou',
          credentials: { env: { id: 'ROLE_SECRET_ID_VARIABLE', secret: 'ROLE_SECRET_KEY_VARIABLE' } },
        },
      },
      bindings: {},
    });
    expect(loaded.warnings).toEqual([]);
    expect(redact('/var/run/secrets/tdmq/role-token-file ROLE_SECRET_KEY_VARIABLE')).toBe(
      '/var/run/secrets/tdmq/role-token-file ROLE_SECRET_KEY_VARIABLE',
    );
  });

  it('a value source written inline is still warned about', () => {
    const loaded = validateConfig({
      brokers: { main: { driver: 'rabbitmq', credentials: { value: { secret: 'inline-role-token-x' } } } },
      bindings: {},
    });
    expect(loaded.warnings.join('\n')).toMatch(/credentials\.value\.secret holds a secret inline/);
  });
});
