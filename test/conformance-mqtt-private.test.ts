// The conformance suite again on a Mosquitto of this file's own (test/mqtt-helpers.ts: temp config,
// own port, never the shared 1883 one), with password authentication so the credential scenarios
// run and the broker can be restarted for the reconnect scenario. The password is the file's
// sentinel secret (sentinelLeakCheck), a wrong one a second sentinel: every output line, log
// call, status event and caught error is searched for both.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { mqttCapabilities } from '@switchyard/mqtt';
import { MqttClient } from 'mqtt';
import { startPrivateMosquitto } from './mqtt-helpers.js';

const leaks = sentinelLeakCheck('mqtt conformance (private Mosquitto)');
const PASSWORD = leaks.sentinel.value;
const WRONG_PASSWORD = leaks.sentinel.another('wrong');
const USER = 'conformance';

runConformance({
  name: 'mqtt (private Mosquitto with passwords and restarts, MQTT 5)',
  leakCheck: leaks,
  capabilities: mqttCapabilities(5),
  harness: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-mqtt-passwd-'));
    const passwords = join(dir, 'passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', passwords, USER, PASSWORD], { stdio: 'ignore' });
    const mosquitto = await startPrivateMosquitto([
      'allow_anonymous false',
      `password_file ${passwords}`,
      'max_queued_messages 0',
    ]);
    const options = (password: string) => ({
      driver: 'mqtt',
      host: '127.0.0.1',
      port: mosquitto.port,
      username: USER,
      password,
      clientIdPrefix: `confp-${process.pid}-`,
      reconnectPeriodMs: 200,
      logger: leaks.logger,
    });
    return {
      connect: () => connect(options(PASSWORD)),
      connectWithWrongCredentials: () => connect(options(WRONG_PASSWORD)),
      createDestination: async () => {},
      restart: () => mosquitto.restart(),
      outage: () => mosquitto.outage(),
      secrets: [PASSWORD, WRONG_PASSWORD],
      close: async () => {
        await mosquitto.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  native: {
    broker: (native) => native instanceof MqttClient,
    message: (native) =>
      typeof native === 'object' && native !== null && (native as { cmd?: string }).cmd === 'publish',
  },
});
