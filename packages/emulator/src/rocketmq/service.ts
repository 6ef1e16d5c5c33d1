// The MessagingService RPCs as plain async functions: request object + call context in, response
// object(s) out. No gRPC types here, so tests and the fuzz suite call them directly; server.ts
// adapts them to grpc-js and adds faults. Every check failure becomes a RocketMQ Status in the
// response body (what the proxy does), never a gRPC error.
//
// Shared options, names and message translation live in service-base.ts; here are the RPCs.

import type { Delivered } from './engine.js';
import { MATCH_ALL, parseFilter } from './filter.js';
import {
  fromMillis,
  type MessageQueue,
  type Resource,
  type TelemetryCommandMsg,
  toMillis,
  type WireMessage,
} from './proto.js';
import {
  aggregate,
  type CallContext,
  guard,
  LONG_POLL_RESERVE_MS,
  MAX_BATCH,
  MAX_INVISIBLE_MS,
  type Reply,
  RocketMqServiceBase,
  toStatus,
} from './service-base.js';
import { fail, OK, status } from './statuses.js';

export { type CallContext, type RocketMqServiceOptions, toStatus } from './service-base.js';

export class RocketMqService extends RocketMqServiceBase {
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
}
