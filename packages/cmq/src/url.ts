// `cmq+https://host[:port]?region=ap-guangzhou&...` → config. The data-plane endpoint is the URL
// without the `cmq+` prefix; credentials come from user:password in the URL (SecretId:SecretKey,
// percent-encoded) or from the environment. Every other option is a query parameter.

import {
  boolParam as bool,
  ConfigError,
  decodeUrlPart,
  intParam as int,
  parseWithSchema,
  queryToObject,
} from '@switchyard/core/driver';
import { z } from 'zod';
import { type CmqConfig, parseConfig } from './config.js';

const querySchema = z.strictObject({
  region: z.string(),
  signatureMethod: z.string().optional(),
  path: z.string().optional(),
  managementEndpoint: z.string().optional(),
  model: z.string().optional(),
  topicFilter: z.string().optional(),
  defaultRoutingKey: z.string().optional(),
  bodyMode: z.string().optional(),
  manageTopology: bool.optional(),
  deadLetter: z.string().optional(),
  nackMode: z.string().optional(),
  visibilityTimeoutMs: int.optional(),
  maxMessageBytes: int.optional(),
  maxConnections: int.optional(),
  requestTimeoutMs: int.optional(),
});

export function fromUrl(url: URL, env: NodeJS.ProcessEnv = process.env): CmqConfig {
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'cmq+http' && scheme !== 'cmq+https') {
    throw new ConfigError(`a CMQ URL starts with cmq+https:// or cmq+http://, got "${scheme}://"`);
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new ConfigError('a CMQ URL has no path: cmq+https://host?region=ap-guangzhou', {
      details: { fields: ['url.path'] },
    });
  }
  const query = parseWithSchema(querySchema, queryToObject(url), 'CMQ URL query');
  const endpoint = `${scheme.slice('cmq+'.length)}://${url.host}`;
  const credentials =
    url.username === ''
      ? {}
      : {
          secretId: decodeUrlPart(url.username, 'user (SecretId)'),
          ...(url.password === '' ? {} : { secretKey: decodeUrlPart(url.password, 'password (SecretKey)') }),
        };
  return parseConfig({ ...query, endpoint, ...credentials }, env);
}
