// The `apache.rocketmq.v2` wire schema, loaded at runtime from the .proto files that ship inside
// `rocketmq-client-nodejs` (a dependency), so the emulator and the real client always agree on
// field numbers. proto-loader gives plain objects, which keeps the service functions easy to call
// directly (and to fuzz) without generated classes.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

let cached: ServiceDefinition | undefined;

/** The MessagingService definition for `server.addService`. */
export function messagingServiceDefinition(): ServiceDefinition {
  if (cached) return cached;
  const root = join(dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto');
  const pkg = loadSync('apache/rocketmq/v2/service.proto', {
    includeDirs: [root],
    keepCase: true,
    // Strings keep int64 exact; enums as names make the service code readable.
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const def = pkg['apache.rocketmq.v2.MessagingService'];
  if (def === undefined || !('SendMessage' in def)) throw new Error('MessagingService not found in proto');
  cached = def as unknown as ServiceDefinition;
  return cached;
}

// Plain-object shapes of the messages the service reads and writes. Every field is optional
// because a request may carry anything (the fuzz tests send garbage); readers must check.

export interface Duration {
  seconds?: string | number;
  nanos?: number;
}
export type Timestamp = Duration;

export interface Resource {
  resource_namespace?: string;
  name?: string;
}

export interface Status {
  code: string;
  message: string;
}

export interface Address {
  host?: string;
  port?: number;
}

export interface Endpoints {
  scheme?: string;
  addresses?: Address[];
}

export interface MessageQueue {
  topic?: Resource;
  id?: number;
  permission?: string;
  broker?: { name?: string; id?: number; endpoints?: Endpoints };
  accept_message_types?: string[];
}

export interface FilterExpressionMsg {
  type?: string;
  expression?: string;
}

export interface SystemProperties {
  tag?: string;
  keys?: string[];
  message_id?: string;
  body_digest?: { type?: string; checksum?: string };
  body_encoding?: string;
  message_type?: string;
  born_timestamp?: Timestamp;
  born_host?: string;
  store_timestamp?: Timestamp;
  store_host?: string;
  delivery_timestamp?: Timestamp;
  receipt_handle?: string;
  queue_id?: number;
  queue_offset?: string | number;
  invisible_duration?: Duration;
  delivery_attempt?: number;
  message_group?: string;
  trace_context?: string;
  dead_letter_queue?: { topic?: string; message_id?: string };
  lite_topic?: string;
  priority?: number;
}

export interface WireMessage {
  topic?: Resource;
  user_properties?: Record<string, string>;
  system_properties?: SystemProperties;
  body?: Buffer | Uint8Array;
}

export interface RetryPolicyMsg {
  max_attempts?: number;
  exponential_backoff?: { initial?: Duration; max?: Duration; multiplier?: number };
  customized_backoff?: { next?: Duration[] };
}

export interface SettingsMsg {
  client_type?: string;
  access_point?: Endpoints;
  backoff_policy?: RetryPolicyMsg;
  request_timeout?: Duration;
  publishing?: { topics?: Resource[]; max_body_size?: number; validate_message_type?: boolean };
  subscription?: {
    group?: Resource;
    subscriptions?: { topic?: Resource; expression?: FilterExpressionMsg }[];
    fifo?: boolean;
    receive_batch_size?: number;
    long_polling_timeout?: Duration;
  };
  user_agent?: { language?: string; version?: string; platform?: string; hostname?: string };
  metric?: { on?: boolean };
}

export interface TelemetryCommandMsg {
  status?: Status;
  settings?: SettingsMsg;
  thread_stack_trace?: { nonce?: string };
  verify_message_result?: { nonce?: string };
  recover_orphaned_transaction_command?: { message?: WireMessage; transaction_id?: string };
  print_thread_stack_trace_command?: { nonce?: string };
  verify_message_command?: { nonce?: string; message?: WireMessage };
  reconnect_endpoints_command?: { nonce?: string };
  command?: string;
}

/** Duration/Timestamp → milliseconds; undefined when absent or malformed. */
export function toMillis(d: Duration | undefined | null): number | undefined {
  if (d === undefined || d === null || typeof d !== 'object') return undefined;
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (!Number.isFinite(seconds) || !Number.isFinite(nanos)) return undefined;
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

export function fromMillis(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 };
}
