// The whole conformance suite against the real Mosquitto on 127.0.0.1:1883 (MQTT 5). Topics need
// no creation: every scenario's fresh name is a fresh topic. The broker is shared and anonymous, so
// there is no restart and no credential here (test/mqtt.chaos.test.ts restarts a private one).

import { runConformance } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { mqttCapabilities } from '@switchyard/mqtt';
import { MqttClient } from 'mqtt';

const URL = process.env.SWITCHYARD_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

runConformance({
  name: 'mqtt (Mosquitto, MQTT 5)',
  capabilities: mqttCapabilities(5),
  harness: async () => ({
    // Each run's consumers get their own client-id prefix: sessions of another run never mix in.
    connect: () => connect(`${URL}?clientIdPrefix=conf-${process.pid}-`),
    createDestination: async () => {},
    close: async () => {},
  }),
  native: {
    broker: (native) => native instanceof MqttClient,
    message: (native) =>
      typeof native === 'object' && native !== null && (native as { cmd?: string }).cmd === 'publish',
  },
});
