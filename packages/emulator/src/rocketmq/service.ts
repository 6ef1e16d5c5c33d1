// The MessagingService RPCs as plain async functions: request object + call context in, response
// object(s) out. No gRPC types here, so tests and the fuzz suite call them directly; server.ts
// adapts them to grpc-js and adds faults. Every check failure becomes a RocketMQ Status in the
// response body (what the proxy does), never a gRPC error.

import { createHash } from 'node:crypto';
import type { Credential } from '../contracts.js';
import { authenticate } from './auth.js';
import type { Delivered, RocketMqEngine } from './engine.js';
import { MATCH_ALL, parseFilter } from './filter.js';
import { acceptedTypes, MESSAGE_TYPES, type MessageType } from './model.js';
import { checkGroupName, checkTopicName, fullName, type NamespaceMode } from './names.js';
import {
  fromMillis,
  type MessageQueue,
  type Resource,
  type SettingsMsg,
  type Status,
  type TelemetryCommandMsg,
  toMillis,
  type WireMessage,
} from './proto.js';
import { consumerSettings, producerSettings, type SettingsOptions } from './settings.js';
import { type CodeName, fail, OK, RocketMqError, status } from './statuses.js';

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

type Reply = Record<string, unknown> & { status: Status };

const MAX_INVISIBLE_MS = 12 * 3600_000;
const MAX_DELAY_MS = 24 * 3600_000;
const MAX_BATCH = 32;
const LONG_POLL_RESERVE_MS = 100;
const RESERVED_PROPERTIES = new Set([
  'KEYS',
  'TAGS',
  'WAIT',
  'DELAY',
  'RETRY_TOPIC',
  'REAL_TOPIC',
  'REAL_QID',
  'TRAN_MSG',
  'PGROUP',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'BUYER_ID',
  'ORIGIN_MESSAGE_ID',
  'TRANSFER_FLAG',
  'CORRECTION_FLAG',
  'MQ2_FLAG',
  'RECONSUME_TIME',
  'MSG_REGION',
  'TRACE_ON',
  'UNIQ_KEY',
  'MAX_RECONSUME_TIMES',
  'CONSUME_START_TIME',
  '__STARTDELIVERTIME',
  'TIMER_DELIVER_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELAY_MS',
  'SHARDING_KEY',
  '__SHARDINGKEY',
  'POP_CK',
  'DELAY_LEVEL',
]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;

export class RocketMqService {
  readonly engine: RocketMqEngine;
  private readonly o: Required<
    Omit<RocketMqServiceOptions, 'longPolling' | 'engine' | 'credentials' | 'advertised'>
  > & {
    readonly longMin: number;
    readonly longMax: number;
  };
  private readonly credentials: readonly Credential[];
  private readonly advertised: () => { host: string; port: number };
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

  queryRoute(req: { topic?: Resource }, ctx: CallContext): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const key = this.topicKey(req?.topic, ctx);
      const topic = this.engine.requireTopic(key);
      const queues: MessageQueue[] = [];
      for (let id = 0; id < topic.config.queues; id++)
        queues.push(this.queue(req.topic!, id, topic.config.type));
      return { status: OK, message_queues: queues };
    });
  }

  heartbeat(req: { group?: Resource }, ctx: CallContext): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      if (req?.group?.name) this.engine.requireGroup(this.groupKey(req.group, ctx));
      return { status: OK };
    });
  }

  sendMessage(req: { messages?: WireMessage[] }, ctx: CallContext): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const messages = Array.isArray(req?.messages) ? req.messages : [];
      if (messages.length === 0) fail('BAD_REQUEST', 'no message to send');
      const entries = messages.map((m) => {
        const messageId =
          typeof m?.system_properties?.message_id === 'string' ? m.system_properties.message_id : '';
        try {
          const stored = this.store(m, ctx);
          return {
            status: OK,
            message_id: stored.messageId,
            transaction_id: stored.transactionId ?? '',
            offset: String(stored.offset),
          };
        } catch (error) {
          return { status: toStatus(error), message_id: messageId };
        }
      });
      return { status: aggregate(entries.map((e) => e.status)), entries };
    });
  }

  queryAssignment(req: { topic?: Resource; group?: Resource }, ctx: CallContext): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const topic = this.engine.requireTopic(this.topicKey(req?.topic, ctx));
      const group = this.engine.requireGroup(this.groupKey(req?.group, ctx));
      // One log per topic: one assignment. The proxy uses id -1 for non-FIFO groups.
      const id = group.config.fifo ? 0 : -1;
      return { status: OK, assignments: [{ message_queue: this.queue(req.topic!, id, topic.config.type) }] };
    });
  }

  /** The stream's items in order: status, messages, delivery_timestamp (or just status on error). */
  async receiveMessage(
    req: {
      group?: Resource;
      message_queue?: MessageQueue;
      filter_expression?: { type?: string; expression?: string };
      batch_size?: number;
      invisible_duration?: { seconds?: string | number; nanos?: number };
      auto_renew?: boolean;
      long_polling_timeout?: { seconds?: string | number; nanos?: number };
    },
    ctx: CallContext,
  ): Promise<Record<string, unknown>[]> {
    let delivered: Delivered[];
    let topicResource: Resource;
    try {
      this.authenticate(ctx);
      const groupKey = this.groupKey(req?.group, ctx);
      topicResource = req?.message_queue?.topic ?? {};
      const topicKey = this.topicKey(topicResource, ctx);
      this.engine.requireGroup(groupKey);
      this.engine.requireTopic(topicKey);
      const filter = req.filter_expression
        ? parseFilter(req.filter_expression.type, req.filter_expression.expression)
        : MATCH_ALL;
      const batch = Number(req.batch_size ?? 0);
      if (!Number.isInteger(batch) || batch <= 0)
        fail('BAD_REQUEST', `batch size must be positive, got ${req.batch_size}`);
      const autoRenew = req.auto_renew === true;
      let invisibleMs = toMillis(req.invisible_duration);
      if (autoRenew) invisibleMs ??= this.o.autoRenewInvisibleMs;
      if (
        invisibleMs === undefined ||
        invisibleMs > MAX_INVISIBLE_MS ||
        invisibleMs < (autoRenew ? 0 : this.o.minInvisibleMs)
      ) {
        fail(
          'ILLEGAL_INVISIBLE_TIME',
          `the invisible time of message is illegal: ${invisibleMs ?? 'absent'} ms`,
        );
      }
      const start = Date.now();
      const remaining = ctx.deadline === undefined ? Number.POSITIVE_INFINITY : ctx.deadline - start;
      if (remaining < this.o.longMin) {
        fail(
          'BAD_REQUEST',
          `request timeout ${Math.round(remaining)} ms is shorter than the minimum long polling time`,
        );
      }
      const asked = toMillis(req.long_polling_timeout) ?? this.o.longMax;
      const pollMs = Math.min(
        Math.max(asked, this.o.longMin),
        this.o.longMax,
        remaining - LONG_POLL_RESERVE_MS,
      );
      const until = start + Math.max(0, pollMs);
      const clientId = ctx.metadata['x-mq-client-id'];
      for (;;) {
        const r = this.engine.receive(groupKey, topicKey, filter, {
          max: Math.min(batch, MAX_BATCH),
          invisibleMs,
          autoRenew,
          ...(clientId !== undefined ? { clientId } : {}),
        });
        delivered = r.delivered;
        const now = Date.now();
        if (delivered.length > 0 || now >= until || ctx.signal?.aborted || this.engine.isClosed) break;
        // Engine times are the engine clock's; waiting is real time, capped by the poll end.
        const untilVisible = r.nextAt - this.engine.clock.now();
        await this.engine.waitForChange(Math.max(1, Math.min(until - now, untilVisible)), ctx.signal);
      }
    } catch (error) {
      return [{ status: toStatus(error) }];
    }
    const stamp = { delivery_timestamp: fromMillis(Date.now()) };
    if (delivered.length === 0) return [{ status: status('MESSAGE_NOT_FOUND', 'no new message') }, stamp];
    return [{ status: OK }, ...delivered.map((d) => ({ message: this.wire(d, topicResource, ctx) })), stamp];
  }

  ackMessage(
    req: { group?: Resource; topic?: Resource; entries?: { message_id?: string; receipt_handle?: string }[] },
    ctx: CallContext,
  ): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const groupKey = this.groupKey(req?.group, ctx);
      const topicKey = this.topicKey(req?.topic, ctx);
      const list = Array.isArray(req.entries) ? req.entries : [];
      if (list.length === 0) fail('BAD_REQUEST', 'no entry to ack');
      const entries = list.map((e) => {
        const handle = typeof e?.receipt_handle === 'string' ? e.receipt_handle : '';
        const messageId = typeof e?.message_id === 'string' ? e.message_id : '';
        try {
          this.engine.ack(groupKey, topicKey, handle);
          return { message_id: messageId, receipt_handle: handle, status: OK };
        } catch (error) {
          return { message_id: messageId, receipt_handle: handle, status: toStatus(error) };
        }
      });
      return { status: aggregate(entries.map((e) => e.status)), entries };
    });
  }

  changeInvisibleDuration(
    req: {
      group?: Resource;
      topic?: Resource;
      receipt_handle?: string;
      invisible_duration?: { seconds?: string | number; nanos?: number };
      message_id?: string;
    },
    ctx: CallContext,
  ): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const groupKey = this.groupKey(req?.group, ctx);
      const topicKey = this.topicKey(req?.topic, ctx);
      const ms = toMillis(req.invisible_duration) ?? 0;
      if (ms < 0 || ms > MAX_INVISIBLE_MS)
        fail('ILLEGAL_INVISIBLE_TIME', `the invisible time of message is illegal: ${ms} ms`);
      const handle = this.engine.changeInvisibleDuration(
        groupKey,
        topicKey,
        String(req.receipt_handle ?? ''),
        ms,
      );
      return { status: OK, receipt_handle: handle };
    });
  }

  forwardMessageToDeadLetterQueue(
    req: { group?: Resource; topic?: Resource; receipt_handle?: string },
    ctx: CallContext,
  ): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const groupKey = this.groupKey(req?.group, ctx);
      const topicKey = this.topicKey(req?.topic, ctx);
      this.engine.forwardToDeadLetter(groupKey, topicKey, String(req.receipt_handle ?? ''));
      return { status: OK };
    });
  }

  endTransaction(
    req: { topic?: Resource; message_id?: string; transaction_id?: string; resolution?: string },
    ctx: CallContext,
  ): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const topicKey = this.topicKey(req?.topic, ctx);
      if (req.resolution !== 'COMMIT' && req.resolution !== 'ROLLBACK')
        fail(
          'BAD_REQUEST',
          `transaction resolution must be COMMIT or ROLLBACK, got ${String(req.resolution)}`,
        );
      if (typeof req.transaction_id !== 'string' || req.transaction_id === '')
        fail('INVALID_TRANSACTION_ID', 'transaction id is empty');
      this.engine.endTransaction(topicKey, req.transaction_id, String(req.message_id ?? ''), req.resolution);
      return { status: OK };
    });
  }

  notifyClientTermination(_req: { group?: Resource }, ctx: CallContext): Promise<Reply> {
    return guard(() => {
      this.authenticate(ctx);
      const clientId = ctx.metadata['x-mq-client-id'];
      if (clientId) this.engine.releaseClient(clientId);
      return { status: OK };
    });
  }

  /** RPCs the Node Producer/SimpleConsumer/PushConsumer never call. */
  notImplemented(name: string): Promise<Reply> {
    return Promise.resolve({
      status: status('NOT_IMPLEMENTED', `${name} is not implemented by the emulator`),
    });
  }

  /**
   * One client TelemetryCommand → the reply to write (undefined: nothing to say). Settings get
   * the server's settings merged in; anything else is an answer to a server command.
   */
  telemetry(
    cmd: TelemetryCommandMsg,
    ctx: CallContext,
    streamAuthenticated = false,
  ): TelemetryCommandMsg | undefined {
    const settings = cmd?.settings;
    if (settings === undefined || settings === null || typeof settings !== 'object') return undefined;
    try {
      // A stream's metadata (and its date) is fixed at open; re-checking the date window on the
      // 5-minute settings re-sync would fail long-lived streams, so the server checks once.
      if (!streamAuthenticated) this.authenticate(ctx);
      return { status: OK, settings: this.settingsFor(settings, ctx) };
    } catch (error) {
      return { status: toStatus(error) };
    }
  }

  /** The wire form of a stored message, as recovery commands and receives carry it. */
  wireMessage(
    message: Delivered['message'],
    topic: Resource,
    extra: Record<string, unknown> = {},
  ): WireMessage {
    const sp: Record<string, unknown> = {
      keys: [...message.keys],
      message_id: message.messageId,
      body_digest: {
        type: 'MD5',
        checksum: createHash('md5').update(message.body).digest('hex').toUpperCase(),
      },
      body_encoding: 'IDENTITY',
      message_type: message.type,
      born_timestamp: fromMillis(message.bornTimestamp),
      born_host: message.bornHost,
      store_timestamp: fromMillis(message.storeTimestamp),
      store_host: `${this.advertised().host}:${this.advertised().port}`,
      queue_id: 0,
      queue_offset: String(message.offset),
      ...extra,
    };
    if (message.tag !== undefined) sp.tag = message.tag;
    if (message.messageGroup !== undefined) sp.message_group = message.messageGroup;
    if (message.deliveryTimestamp !== undefined)
      sp.delivery_timestamp = fromMillis(message.deliveryTimestamp);
    if (message.deadLetter !== undefined)
      sp.dead_letter_queue = { topic: message.deadLetter.topic, message_id: message.deadLetter.messageId };
    return {
      topic: {
        ...(topic.resource_namespace ? { resource_namespace: topic.resource_namespace } : {}),
        name: topic.name ?? '',
      },
      user_properties: { ...message.properties },
      system_properties: sp,
      body: message.body,
    };
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

  private settingsFor(client: SettingsMsg, ctx: CallContext): SettingsMsg {
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

  private queue(topic: Resource, id: number, type: Parameters<typeof acceptedTypes>[0]): MessageQueue {
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

  private wire(d: Delivered, topic: Resource, ctx: CallContext): WireMessage {
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

  private store(m: WireMessage, ctx: CallContext) {
    if (m === null || typeof m !== 'object') fail('BAD_REQUEST', 'message is empty');
    const topicKey = this.topicKey(m.topic, ctx);
    const sp = m.system_properties ?? {};
    const messageId = sp.message_id;
    if (typeof messageId !== 'string' || messageId === '') fail('ILLEGAL_MESSAGE_ID', 'message id is empty');
    const body = Buffer.isBuffer(m.body)
      ? m.body
      : m.body instanceof Uint8Array
        ? Buffer.from(m.body)
        : Buffer.alloc(0);
    if (body.length === 0) fail('MESSAGE_BODY_EMPTY', 'message body is empty');
    if (body.length > this.o.maxBodyBytes)
      fail(
        'MESSAGE_BODY_TOO_LARGE',
        `message body size ${body.length} exceeds the limit ${this.o.maxBodyBytes}`,
      );
    const tag = sp.tag;
    if (
      tag !== undefined &&
      (typeof tag !== 'string' || tag.trim() === '' || tag.includes('|') || CONTROL.test(tag))
    )
      fail('ILLEGAL_MESSAGE_TAG', `tag ${JSON.stringify(tag)} is illegal`);
    const keys = Array.isArray(sp.keys) ? sp.keys : [];
    for (const k of keys) {
      if (typeof k !== 'string' || k.trim() === '' || CONTROL.test(k))
        fail('ILLEGAL_MESSAGE_KEY', `key ${JSON.stringify(k)} is illegal`);
    }
    const props = m.user_properties && typeof m.user_properties === 'object' ? m.user_properties : {};
    const entries = Object.entries(props);
    let size = (tag?.length ?? 0) + keys.reduce((n, k) => n + k.length, 0);
    for (const [k, v] of entries) {
      if (RESERVED_PROPERTIES.has(k)) fail('ILLEGAL_MESSAGE_PROPERTY_KEY', `property key ${k} is reserved`);
      size += k.length + String(v).length;
    }
    if (entries.length > 128 || size > 16 * 1024)
      fail('MESSAGE_PROPERTIES_TOO_LARGE', 'user properties exceed 128 entries or 16 KiB');
    const type = (sp.message_type ?? 'NORMAL') as MessageType;
    if (!MESSAGE_TYPES.includes(type))
      fail('UNSUPPORTED', `message type ${String(sp.message_type)} is not supported by the emulator`);
    const group = sp.message_group;
    if (group !== undefined && group !== '') {
      if (type !== 'FIFO')
        fail('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE', `a message group needs message type FIFO, not ${type}`);
      if (typeof group !== 'string' || Buffer.byteLength(group) >= 64 || CONTROL.test(group))
        fail('ILLEGAL_MESSAGE_GROUP', `message group ${JSON.stringify(group)} is illegal`);
    } else if (type === 'FIFO') fail('ILLEGAL_MESSAGE_GROUP', 'message group is empty');
    const deliveryAt = toMillis(sp.delivery_timestamp);
    if (deliveryAt !== undefined) {
      if (type !== 'DELAY')
        fail(
          'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE',
          `a delivery timestamp needs message type DELAY, not ${type}`,
        );
      if (deliveryAt - this.o.now() > MAX_DELAY_MS)
        fail('ILLEGAL_DELIVERY_TIME', 'delivery timestamp is more than 24 hours ahead');
    } else if (type === 'DELAY') fail('ILLEGAL_DELIVERY_TIME', 'a DELAY message needs a delivery timestamp');
    const bornAt = toMillis(sp.born_timestamp);
    return this.engine.append(topicKey, {
      messageId,
      type,
      ...(tag !== undefined ? { tag } : {}),
      keys,
      ...(group ? { messageGroup: group } : {}),
      body,
      properties: Object.fromEntries(entries.map(([k, v]) => [k, String(v)])),
      ...(bornAt !== undefined && Number.isFinite(bornAt) ? { bornTimestamp: bornAt } : {}),
      bornHost: typeof sp.born_host === 'string' ? sp.born_host : '',
      // Delay runs on the engine clock; the client stamps real time.
      ...(deliveryAt !== undefined
        ? { deliveryTimestamp: this.engine.clock.now() + (deliveryAt - this.o.now()) }
        : {}),
    });
  }
}

async function guard(fn: () => Reply): Promise<Reply> {
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

function aggregate(statuses: readonly Status[]): Status {
  const first = statuses[0];
  if (first === undefined) return OK;
  if (statuses.length === 1 || statuses.every((s) => s.code === first.code)) return first;
  return status('MULTIPLE_RESULTS' satisfies CodeName, 'multiple results');
}
