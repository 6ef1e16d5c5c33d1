import { type Capabilities, defineCapabilities } from '@switchyard/core/driver';
import { MQTT_MAX_PAYLOAD } from './config.js';

/**
 * What MQTT can do. A broker never redelivers a QoS 1 message on its own (MQTT 5 §4.4: only when a
 * session resumes), has no negative acknowledgement, no visibility timeout, no delayed delivery
 * and no per-message id: nack is a copy of the message on its topic with its attempt count (the
 * portable layer then acknowledges the original), its delay is held in the process, and order
 * holds per topic within one session only — not across the members of a shared subscription.
 */
export function mqttCapabilities(version: 4 | 5, maxMessageBytes = MQTT_MAX_PAYLOAD): Readonly<Capabilities> {
  // MQTT 3.1.1 has no properties: the payload alone travels, so nothing else can be carried.
  const v5 = version === 5;
  return defineCapabilities({
    headers: v5 ? 'native' : 'none',
    binaryBodies: 'native',
    delayedSend: false,
    maxDelayMs: 7 * 24 * 3_600_000,
    // MQTT 3.1.1 cannot mark a copy for one group or carry its count: no nack there.
    nack: v5 ? 'emulated' : false,
    nackDelay: v5 ? 'emulated' : false,
    extend: false,
    visibilityTimeout: false,
    deadLetter: 'emulated',
    deliveryAttempt: v5 ? 'carried' : 'process',
    orderingKeys: false,
    tagFilter: false,
    // Routing keys are topic levels below the destination; `*` is `+`, a trailing `#` is `#`.
    routingKeyFilter: true,
    maxTagsPerMessage: 0,
    maxKeysPerMessage: v5 ? 1 : 0,
    // Each message is its own PUBLISH, pipelined; a batch only bounds how many wait at once.
    // 250, not more: a batch's sends settle at its last PUBACK, so with the Producer's four
    // batches in flight smaller batches keep the window of PUBLISHes full (issue 18: 1,000
    // concurrent send() calls ran as batches of 1, 1, 1, 997 and the window emptied between).
    batchSend: true,
    maxBatchSize: 250,
    maxBatchBytes: Number.POSITIVE_INFINITY,
    fanOut: true,
    startFrom: false,
    // MQTT 5's Response Topic and Correlation Data carry a request's reply address and id.
    requestReply: v5 ? 'native' : false,
    maxMessageBytes,
  });
}

export const mqttDefaultCapabilities = mqttCapabilities(5);

/** MQTT 3.1.1 (protocolVersion 4): the docs' second MQTT column. */
export const mqtt311Capabilities = (): Readonly<Capabilities> => mqttCapabilities(4);
