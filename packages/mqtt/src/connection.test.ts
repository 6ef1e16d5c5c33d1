import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { type ClientSpec, clientOptions } from './connection.js';

const spec: ClientSpec = { clientId: 'sy-test', version: 5, persistent: false, role: 'p' };
const saved = process.env.DEBUG;

afterEach(() => {
  if (saved === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = saved;
});

/** An MQTT.js client made from the options, never connected. */
function clientFrom(options: ReturnType<typeof clientOptions>): mqtt.MqttClient {
  return mqtt.connect({ ...options, manualConnect: true });
}

describe('clientOptions', () => {
  it('gives MQTT.js a no-op logger when DEBUG is unset, so its ≈ 20 log calls per publish build nothing', () => {
    delete process.env.DEBUG;
    const options = clientOptions(parseConfig({ host: '127.0.0.1' }), spec);
    expect(options.log).toBeTypeOf('function');
    const client = clientFrom(options);
    expect(client.log).toBe(options.log);
  });

  it("leaves MQTT.js's own debug logger in place when DEBUG is set", () => {
    process.env.DEBUG = 'mqttjs*';
    const options = clientOptions(parseConfig({ host: '127.0.0.1' }), spec);
    expect(options.log).toBeUndefined();
    const client = clientFrom(options);
    expect(client.log).toBeTypeOf('function');
    expect((client.log as { namespace?: string }).namespace).toBe('mqttjs:client');
  });
});
