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
import { type MqttConfig, parseConfig } from './config.js';

// mqtt://user:pass@host:1883?options, mqtts://…, and WebSocket: ws://host:8080/mqtt (the path is
// the WebSocket path). `mqtt+ws` / `mqtt+wss` name the same WebSocket transports for a
// configuration that wants its scheme to say MQTT.

const querySchema = z.strictObject({
  protocolVersion: z.enum(['5', '4', '3.1.1', 'auto']).optional(),
  clientIdPrefix: z.string().optional(),
  sessionExpirySeconds: intParam.optional(),
  keepaliveSeconds: intParam.optional(),
  connectTimeoutMs: intParam.optional(),
  reconnectPeriodMs: intParam.optional(),
  unavailableTimeoutMs: intParam.optional(),
  maxMessageBytes: intParam.optional(),
  messageExpirySeconds: intParam.optional(),
  unroutable: z.string().optional(),
  resubscribeGraceMs: intParam.optional(),
  rejectUnauthorized: boolParam.optional(),
  servername: z.string().optional(),
});

const PROTOCOLS: Readonly<Record<string, MqttConfig['protocol']>> = {
  mqtt: 'mqtt',
  mqtts: 'mqtts',
  ws: 'ws',
  wss: 'wss',
  'mqtt+ws': 'ws',
  'mqtt+wss': 'wss',
};

export function fromUrl(url: URL): MqttConfig {
  const scheme = url.protocol.replace(/:$/, '');
  const protocol = PROTOCOLS[scheme];
  if (protocol === undefined) {
    throw new ConfigError(
      `the mqtt driver takes mqtt://, mqtts://, ws://, wss:// (or mqtt+ws://, mqtt+wss://) URLs, not ${scheme}://`,
    );
  }
  const query = parseWithSchema(querySchema, queryToObject(url), 'URL query');
  const websocket = protocol === 'ws' || protocol === 'wss';
  if (!websocket && url.pathname !== '' && url.pathname !== '/') {
    throw new ConfigError(
      `invalid URL path "${url.pathname}": an ${protocol}:// URL has no path (topics are destinations, not part of the URL)`,
      { details: { fields: ['URL path'] } },
    );
  }
  const { rejectUnauthorized, servername, protocolVersion, ...rest } = query;
  const input: Record<string, unknown> = {
    protocol,
    host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    ...(websocket && url.pathname !== '' ? { path: url.pathname } : {}),
    ...(url.username === '' ? {} : { username: decodeUrlPart(url.username, 'user') }),
    // Straight into a Secret: the plain text never sits in a config object that might be logged.
    ...(url.password === '' ? {} : { password: new Secret(decodeUrlPart(url.password, 'password')) }),
    ...(protocolVersion === undefined
      ? {}
      : { protocolVersion: protocolVersion === 'auto' ? 'auto' : protocolVersion === '5' ? 5 : 4 }),
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
