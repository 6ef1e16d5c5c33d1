// Replies to a client's Settings on the Telemetry stream. The Node client crashes without an
// exponential backoff for producers and refuses to send without `max_body_size` (sheet §0.2-0.3);
// PushConsumers need `receive_batch_size`, `long_polling_timeout` and `fifo`.

import type { GroupConfig } from './model.js';
import { fromMillis, type RetryPolicyMsg, type SettingsMsg } from './proto.js';

export interface SettingsOptions {
  readonly maxBodyBytes: number;
  /** `long_polling_timeout` announced to PushConsumers (the proxy: 20 s). */
  readonly pushLongPollingMs: number;
  readonly receiveBatchSize: number;
}

/** What the proxy gives producers. */
export function producerSettings(client: SettingsMsg, options: SettingsOptions): SettingsMsg {
  return {
    ...client,
    backoff_policy: {
      max_attempts: 3,
      exponential_backoff: { initial: fromMillis(10), max: fromMillis(1000), multiplier: 2 },
    },
    publishing: {
      topics: client.publishing?.topics ?? [],
      max_body_size: options.maxBodyBytes,
      validate_message_type: true,
    },
    metric: { on: false },
  };
}

/** Backoff from the group's retry policy, with max_attempts = the group's maximum deliveries. */
export function groupBackoff(group: GroupConfig): RetryPolicyMsg {
  if (group.retryPolicy === 'customized') {
    const steps = [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200];
    return {
      max_attempts: group.maxDeliveryAttempts,
      customized_backoff: { next: steps.map((s) => fromMillis(s * 1000)) },
    };
  }
  return {
    max_attempts: group.maxDeliveryAttempts,
    exponential_backoff: { initial: fromMillis(5000), max: fromMillis(7_200_000), multiplier: 2 },
  };
}

export function consumerSettings(
  client: SettingsMsg,
  group: GroupConfig,
  options: SettingsOptions,
): SettingsMsg {
  return {
    ...client,
    backoff_policy: groupBackoff(group),
    subscription: {
      ...client.subscription,
      fifo: group.fifo,
      receive_batch_size: options.receiveBatchSize,
      long_polling_timeout: fromMillis(options.pushLongPollingMs),
    },
    metric: { on: false },
  };
}
