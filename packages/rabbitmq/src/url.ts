import {
  boolParam,
  ConfigError,
  decodeUrlPart,
  intParam,
  parseWithSchema,
  queryToObject,
  Secret,
} from '@switchyard/core/driver';
import { z } from 'zod';
import { parseConfig, type RabbitConfig } from './config.js';

// amqp://user:pass@host:port/vhost?options, as the AMQP URI spec writes it: the vhost is one
// URL-encoded path segment (TDMQ's `clusterId|vhost` becomes `clusterId%7Cvhost`; `%2F` is `/`).

const querySchema = z.strictObject({
  cluster: z.string().min(1).optional(),
  exchangeType: z.string().optional(),
  exchangeDurable: boolParam.optional(),
  exchangeAutoDelete: boolParam.optional(),
  queueDurable: boolParam.optional(),
  queueAutoDelete: boolParam.optional(),
  queueType: z.string().optional(),
  topology: z.string().optional(),
  queueName: z.string().optional(),
  queueExpiresMs: intParam.optional(),
  delayPrefix: z.string().optional(),
  delayLevels: intParam.optional(),
  delayQueueType: z.string().optional(),
  unroutable: z.string().optional(),
  persistent: boolParam.optional(),
  heartbeat: intParam.optional(),
  connectTimeoutMs: intParam.optional(),
  unavailableTimeoutMs: intParam.optional(),
  maxMessageBytes: intParam.optional(),
  connectionName: z.string().optional(),
  rejectUnauthorized: boolParam.optional(),
  servername: z.string().optional(),
});

export function fromUrl(url: URL): RabbitConfig {
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'amqp' && protocol !== 'amqps') {
    throw new ConfigError(`the rabbitmq driver takes amqp:// or amqps:// URLs, not ${protocol}://`);
  }
  const query = parseWithSchema(querySchema, queryToObject(url), 'URL query');
  const path = url.pathname.replace(/^\//, '');
  if (path.includes('/')) {
    throw new ConfigError('invalid URL path: the vhost is one path segment; encode "/" in it as %2F', {
      details: { fields: ['URL path'] },
    });
  }
  const { rejectUnauthorized, servername, heartbeat, ...rest } = query;
  const input: Record<string, unknown> = {
    protocol,
    host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    ...(url.username === '' && url.password === '' ? {} : { username: decodeUrlPart(url.username, 'user') }),
    // Straight into a Secret: the plain text never sits in a config object that might be logged.
    ...(url.password === '' ? {} : { password: new Secret(decodeUrlPart(url.password, 'password')) }),
    ...(path === '' ? {} : { vhost: decodeUrlPart(path, 'vhost') }),
    ...(heartbeat === undefined ? {} : { heartbeatSeconds: heartbeat }),
    ...(rejectUnauthorized === undefined && servername === undefined
      ? {}
      : {
          tls: {
            ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
            ...(servername === undefined ? {} : { servername }),
          },
        }),
    ...rest,
  };
  return parseConfig(input, 'URL');
}
