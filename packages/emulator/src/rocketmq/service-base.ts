// The MessagingService's shared part: options, authentication, names, the translation of messages
// to and from the engine, and the reply helpers. The RPCs themselves are in service.ts.

import type { Credential } from '../contracts.js';
import { authenticate } from './auth.js';
import type { Delivered, RocketMqEngine } from './engine.js';
import { acceptedTypes } from './model.js';
import { checkGroupName, checkTopicName, fullName, type NamespaceMode } from './names.js';
import {
  fromMillis,
  type MessageQueue,
  type Resource,
  type SettingsMsg,
  type Status,
  type WireMessage,
} from './proto.js';
import { consumerSettings, producerSettings, type SettingsOptions } from './settings.js';
import { type CodeName, fail, OK, RocketMqError, status } from './statuses.js';
import { appendInputOf, toWireMessage } from './wire-message.js';

export interface RocketMqServiceOptions {
  readonly engine: RocketMqEngine;
  readonly credentials: readonly Credential[];
  /**
   * Accept calls without `authorization`, as the Apache proxy with ACL off. Default false: an
   * emulator reachable from other programs should not take anonymous sends and receives.
   */
  readonly allowAnonymous?: boolean;
  /** |now - x-mq-date-time| allowed, seconds; 0 = unchecked. Default 900. */
  readonly dateWindowSeconds?: number;
  /** Default `prefix` (see names.ts). */
  readonly namespaceMode?: NamespaceMode;
  /** Advertised `publishing.max_body_size` and the send limit. Default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Minimum `invisible_duration` for receives without auto-renew. Default 10 s (the proxy). */
  readonly minInvisibleMs?: number;
  /** Long-poll clamp (the proxy: 5 s .. 20 s); a call with less than `min` left gets 40000. */
  readonly longPolling?: { readonly minMs?: number; readonly maxMs?: number };
  /** `long_polling_timeout` in PushConsumer settings. Default 20 s. */
  readonly pushLongPollingMs?: number;
  /** Invisibility of auto-renew (PushConsumer) deliveries. Default 60 s. */
  readonly autoRenewInvisibleMs?: number;
  /** Where clients reach the broker (the route's endpoints). */
  readonly advertised: () => { host: string; port: number };
  /** Real time for signatures and timestamps the client sends. */
  readonly now?: () => number;
}

export interface CallContext {
  /** Lower-cased metadata keys, first value each. */
  readonly metadata: Readonly<Record<string, string | undefined>>;
  /** Epoch ms when the client gives up (grpc deadline); undefined = none. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

export type Reply = Record<string, unknown> & { status: Status };

export const MAX_INVISIBLE_MS = 12 * 3600_000;
export const MAX_BATCH = 32;
export const LONG_POLL_RESERVE_MS = 100;

export abstract class RocketMqServiceBase {
  readonly engine: RocketMqEngine;
  protected readonly o: Required<
    Omit<RocketMqServiceOptions, 'longPolling' | 'engine' | 'credentials' | 'advertised'>
  > & {
    readonly longMin: number;
    readonly longMax: number;
  };
  protected readonly credentials: readonly Credential[];
  protected readonly advertised: () => { host: string; port: number };
  readonly settingsOptions: SettingsOptions;

  constructor(options: RocketMqServiceOptions) {
    this.engine = options.engine;
    this.credentials = options.credentials;
    this.advertised = options.advertised;
    this.o = {
      allowAnonymous: options.allowAnonymous ?? false,
      dateWindowSeconds: options.dateWindowSeconds ?? 900,
      namespaceMode: options.namespaceMode ?? 'prefix',
      maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
      minInvisibleMs: options.minInvisibleMs ?? 10_000,
      pushLongPollingMs: options.pushLongPollingMs ?? 20_000,
      autoRenewInvisibleMs: options.autoRenewInvisibleMs ?? 60_000,
      now: options.now ?? Date.now,
      longMin: options.longPolling?.minMs ?? 5_000,
      longMax: options.longPolling?.maxMs ?? 20_000,
    };
    this.settingsOptions = {
      maxBodyBytes: this.o.maxBodyBytes,
      pushLongPollingMs: this.o.pushLongPollingMs,
      receiveBatchSize: MAX_BATCH,
    };
  }

  get autoRenewInvisibleMs(): number {
    return this.o.autoRenewInvisibleMs;
  }

  /** Throws UNAUTHORIZED unless the metadata authenticates. */
  authenticate(ctx: CallContext): void {
    authenticate(ctx.metadata, {
      credentials: this.credentials,
      allowAnonymous: this.o.allowAnonymous,
      dateWindowSeconds: this.o.dateWindowSeconds,
      now: this.o.now,
    });
  }

  /** The wire form of a stored message, as recovery commands and receives carry it. */
  wireMessage(
    message: Delivered['message'],
    topic: Resource,
    extra: Record<string, unknown> = {},
  ): WireMessage {
    const { host, port } = this.advertised();
    return toWireMessage(message, topic, `${host}:${port}`, extra);
  }

  topicKey(resource: Resource | undefined, ctx: CallContext): string {
    const name = checkTopicName(resource?.name);
    return fullName(
      name,
      resource?.resource_namespace || ctx.metadata['x-mq-namespace'],
      this.o.namespaceMode,
    );
  }

  groupKey(resource: Resource | undefined, ctx: CallContext): string {
    const name = checkGroupName(resource?.name);
    return fullName(
      name,
      resource?.resource_namespace || ctx.metadata['x-mq-namespace'],
      this.o.namespaceMode,
    );
  }

  // ---- internals ------------------------------------------------------------------------------

  protected settingsFor(client: SettingsMsg, ctx: CallContext): SettingsMsg {
    switch (client.client_type) {
      case 'PRODUCER':
        return producerSettings(client, this.settingsOptions);
      case 'PUSH_CONSUMER':
      case 'SIMPLE_CONSUMER': {
        const group = this.engine.requireGroup(this.groupKey(client.subscription?.group, ctx));
        return consumerSettings(client, group.config, this.settingsOptions);
      }
      default:
        return fail('UNRECOGNIZED_CLIENT_TYPE', `client type ${String(client.client_type)} is not supported`);
    }
  }

  protected queue(topic: Resource, id: number, type: Parameters<typeof acceptedTypes>[0]): MessageQueue {
    const { host, port } = this.advertised();
    return {
      topic: {
        ...(topic.resource_namespace ? { resource_namespace: topic.resource_namespace } : {}),
        name: topic.name ?? '',
      },
      id,
      permission: 'READ_WRITE',
      broker: {
        name: 'switchyard-broker-0',
        id: 0,
        endpoints: { scheme: 'IPv4', addresses: [{ host, port }] },
      },
      accept_message_types: [...acceptedTypes(type)],
    };
  }

  protected wire(d: Delivered, topic: Resource, ctx: CallContext): WireMessage {
    const ns = topic.resource_namespace || ctx.metadata['x-mq-namespace'];
    return this.wireMessage(
      d.message,
      { ...(ns ? { resource_namespace: ns } : {}), name: topic.name ?? '' },
      {
        receipt_handle: d.handle,
        invisible_duration: fromMillis(d.invisibleMs),
        delivery_attempt: d.attempt,
      },
    );
  }

  protected store(m: WireMessage, ctx: CallContext) {
    if (m === null || typeof m !== 'object') fail('BAD_REQUEST', 'message is empty');
    const topicKey = this.topicKey(m.topic, ctx);
    return this.engine.append(
      topicKey,
      appendInputOf(m, {
        maxBodyBytes: this.o.maxBodyBytes,
        now: this.o.now,
        engineNow: () => this.engine.clock.now(),
      }),
    );
  }
}

export async function guard(fn: () => Reply): Promise<Reply> {
  try {
    return fn();
  } catch (error) {
    return { status: toStatus(error) };
  }
}

export function toStatus(error: unknown): Status {
  if (error instanceof RocketMqError) return error.toStatus();
  return status(
    'INTERNAL_SERVER_ERROR',
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
  );
}

export function aggregate(statuses: readonly Status[]): Status {
  const first = statuses[0];
  if (first === undefined) return OK;
  if (statuses.length === 1 || statuses.every((s) => s.code === first.code)) return first;
  return status('MULTIPLE_RESULTS' satisfies CodeName, 'multiple results');
}
