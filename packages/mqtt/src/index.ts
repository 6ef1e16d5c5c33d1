// @switchyard/mqtt: MQTT 5 / 3.1.1 brokers (Mosquitto, TDMQ for MQTT, EMQX…) on MQTT.js. Core's
// registry imports this package lazily for mqtt://, mqtts://, ws:// and wss:// URLs and reads `driver`.

export { mqtt311Capabilities, mqttCapabilities, mqttDefaultCapabilities } from './capabilities.js';
export { type MqttConfig, type MqttConfigInput, parseConfig } from './config.js';
export { DRAIN_TOPIC } from './consumer.js';
export { driver, MqttDriver } from './driver.js';
export { mapError } from './errors.js';
export {
  ATTEMPTS_PROPERTY,
  CORRELATION_HEADER,
  EXPIRY_HEADER,
  GROUP_PROPERTY,
  ID_PROPERTY,
  KEY_PROPERTY,
  REPLY_TO_HEADER,
} from './properties.js';
export { MqttReplyInbox, PROBE_TOPIC_PREFIX, probeMqtt, REPLY_TOPIC_PREFIX } from './reply.js';
export { topicFilters, topicFor } from './topics.js';
export { fromUrl } from './url.js';
