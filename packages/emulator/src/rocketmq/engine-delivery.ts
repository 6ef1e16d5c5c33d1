// The RocketMQ engine's consumption side, what the gRPC service calls: appends, transactions,
// POP-style receive per (group, topic), ack, invisibility changes, dead-lettering, redelivery of
// expired messages, auto-renewal, and the long-poll wake-ups.

import {
  type AppendInput,
  cursorKey,
  type Delivered,
  MAX_RENEW_MS,
  parseHandleOffset,
  RENEW_AHEAD_MS,
  type ReceiveOptions,
  RocketMqEngineBase,
} from './engine-base.js';
import { matches, type TagFilter } from './filter.js';
import { acceptedTypes, type Group, type StoredMessage, type TxState } from './model.js';
import { dlqTopicOf } from './names.js';
import { fail } from './statuses.js';

export abstract class RocketMqDelivery extends RocketMqEngineBase {
  // ---- protocol operations ---------------------------------------------------------------

  append(topicName: string, input: AppendInput): StoredMessage {
    const topic = this.requireTopic(topicName);
    if (!acceptedTypes(topic.config.type).includes(input.type)) {
      fail(
        'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE',
        `current message type ${input.type} does not match topic ${topicName} type ${topic.config.type}`,
      );
    }
    const now = this.clock.now();
    const transactionId = input.type === 'TRANSACTION' ? this.newId() : undefined;
    const message: StoredMessage = {
      offset: topic.messages.length,
      seq: ++this.seq,
      messageId: input.messageId,
      type: input.type,
      ...(input.tag !== undefined ? { tag: input.tag } : {}),
      keys: [...(input.keys ?? [])],
      ...(input.messageGroup !== undefined ? { messageGroup: input.messageGroup } : {}),
      body: input.body,
      properties: { ...input.properties },
      bornTimestamp: input.bornTimestamp ?? now,
      bornHost: input.bornHost ?? '',
      storeTimestamp: now,
      ...(input.deliveryTimestamp !== undefined ? { deliveryTimestamp: input.deliveryTimestamp } : {}),
      ...(transactionId !== undefined ? { transactionId, tx: 'prepared' as TxState, txChecks: 0 } : {}),
      ...(input.deadLetter !== undefined ? { deadLetter: input.deadLetter } : {}),
      ...(input.queueId !== undefined ? { queueId: input.queueId } : {}),
      ...(input.reconsumeTimes !== undefined ? { reconsumeTimes: input.reconsumeTimes } : {}),
      ...(input.flag !== undefined ? { flag: input.flag } : {}),
    };
    topic.messages.push(message);
    this.messageChanged(topicName, message);
    this.indexTransaction(topicName, message);
    this.notify();
    return message;
  }

  endTransaction(
    topicName: string,
    transactionId: string,
    messageId: string,
    resolution: 'COMMIT' | 'ROLLBACK',
  ): void {
    const entry = this.transactions.get(transactionId);
    const message =
      entry && entry.topic === topicName ? this.topics.get(topicName)?.messages[entry.offset] : undefined;
    if (message === undefined || (messageId !== '' && message.messageId !== messageId)) {
      fail(
        'INVALID_TRANSACTION_ID',
        `no half message with transaction id ${transactionId} in topic ${topicName}`,
      );
    }
    const target: TxState = resolution === 'COMMIT' ? 'committed' : 'rolledback';
    if (message.tx === target) return;
    if (message.tx !== 'prepared')
      fail('INVALID_TRANSACTION_ID', `transaction ${transactionId} already ended`);
    message.tx = target;
    this.preparedTransactions.delete(transactionId);
    this.messageChanged(topicName, message);
    this.notify();
  }

  /** Half messages older than `ageMs` whose last check is due; each call counts one check. */
  dueTransactionChecks(ageMs: number, maxChecks: number): { topic: string; message: StoredMessage }[] {
    const now = this.clock.now();
    const due: { topic: string; message: StoredMessage }[] = [];
    for (const id of this.preparedTransactions) {
      const entry = this.transactions.get(id);
      const message = entry && this.topics.get(entry.topic)?.messages[entry.offset];
      if (entry === undefined || message?.tx !== 'prepared') {
        this.preparedTransactions.delete(id);
        continue;
      }
      const checks = message.txChecks ?? 0;
      if (now - message.storeTimestamp < ageMs * (checks + 1)) continue;
      if (checks >= maxChecks) {
        // The broker gives up on a half message after transactionCheckMax checks: rolled back.
        message.tx = 'rolledback';
        this.preparedTransactions.delete(id);
        this.messageChanged(entry.topic, message);
        continue;
      }
      message.txChecks = checks + 1;
      this.messageChanged(entry.topic, message);
      due.push({ topic: entry.topic, message });
    }
    return due;
  }

  /**
   * Pop up to `max` visible messages for a group. Also returns when the next hidden message
   * (delayed or invisible) becomes visible, so a long poll knows when to look again.
   */
  receive(
    groupName: string,
    topicName: string,
    filter: TagFilter,
    options: ReceiveOptions,
  ): { delivered: Delivered[]; nextAt: number } {
    const group = this.requireGroup(groupName);
    const topic = this.requireTopic(topicName);
    const cursor = this.cursor(group, topic);
    const now = this.clock.now();
    const delivered: Delivered[] = [];
    const blocked = new Set<string>();
    let nextAt = Number.POSITIVE_INFINITY;
    this.advance(cursor, topic);
    for (
      let offset = cursor.low;
      offset < topic.messages.length && delivered.length < options.max;
      offset++
    ) {
      const message = topic.messages[offset]!;
      const delivery = cursor.deliveries.get(offset);
      if (delivery?.done) continue;
      if (message.tx === 'rolledback') {
        this.finish(cursor, offset);
        continue;
      }
      if (message.tx === 'prepared') continue;
      if (message.deliveryTimestamp !== undefined && message.deliveryTimestamp > now) {
        nextAt = Math.min(nextAt, message.deliveryTimestamp);
        continue;
      }
      // The broker acks filtered-out messages for the group: the consumer never sees them.
      if (!matches(filter, message.tag)) {
        this.finish(cursor, offset);
        continue;
      }
      const orderKey = group.config.fifo && message.messageGroup ? message.messageGroup : undefined;
      if (orderKey !== undefined && blocked.has(orderKey)) continue;
      if (delivery && delivery.visibleAt > now) {
        nextAt = Math.min(nextAt, delivery.visibleAt);
        // An in-flight message holds back the rest of its message group on a FIFO group.
        if (orderKey !== undefined) blocked.add(orderKey);
        continue;
      }
      if (delivery && delivery.attempts >= group.config.maxDeliveryAttempts) {
        this.deadLetter(group, topicName, message);
        this.finish(cursor, offset);
        continue;
      }
      const handle = this.newHandle(offset);
      const attempt = (delivery?.attempts ?? 0) + 1;
      cursor.deliveries.set(offset, {
        attempts: attempt,
        visibleAt: now + options.invisibleMs,
        handle,
        done: false,
        ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
        ...(options.autoRenew ? { autoRenew: true, renewUntil: now + MAX_RENEW_MS } : {}),
      });
      delivered.push({ message, handle, attempt, invisibleMs: options.invisibleMs });
    }
    this.advance(cursor, topic);
    this.cursorChanged(cursor);
    return { delivered, nextAt };
  }

  ack(groupName: string, topicName: string, handle: string): StoredMessage {
    const { cursor, offset, message } = this.current(groupName, topicName, handle);
    this.finish(cursor, offset);
    this.notify();
    return message;
  }

  /** New invisibility from now; the old handle dies and a new one is returned. */
  changeInvisibleDuration(groupName: string, topicName: string, handle: string, invisibleMs: number): string {
    const { delivery, offset } = this.current(groupName, topicName, handle);
    const next = this.newHandle(offset);
    delivery.handle = next;
    delivery.visibleAt = this.clock.now() + invisibleMs;
    delivery.autoRenew = false;
    this.cursorChanged(this.cursors.get(cursorKey(groupName, topicName)));
    this.notify();
    return next;
  }

  forwardToDeadLetter(groupName: string, topicName: string, handle: string): StoredMessage {
    const { cursor, offset, message, group } = this.current(groupName, topicName, handle);
    this.deadLetter(group, topicName, message);
    this.finish(cursor, offset);
    this.notify();
    return message;
  }

  /**
   * Dead-letter expired messages that used up their attempts, without waiting for their group to
   * poll again (the broker's revive does this in the background). Run periodically by the server.
   */
  reviveExpired(): number {
    const now = this.clock.now();
    let moved = 0;
    for (const cursor of this.cursors.values()) {
      const group = this.groups.get(cursor.group);
      const topic = this.topics.get(cursor.topic);
      if (!group || !topic) continue;
      for (const [offset, delivery] of cursor.deliveries) {
        if (delivery.done || delivery.visibleAt > now || delivery.attempts < group.config.maxDeliveryAttempts)
          continue;
        const message = topic.messages[offset];
        if (message === undefined) continue;
        this.deadLetter(group, topic.name, message);
        this.finish(cursor, offset);
        moved++;
      }
    }
    return moved;
  }

  /**
   * Keep auto-renew (PushConsumer) deliveries invisible while their client is connected, as the
   * proxy renews them shortly before they expire. Run periodically by the server.
   */
  renewHeld(connected: (clientId: string) => boolean, invisibleMs: number): void {
    const now = this.clock.now();
    for (const cursor of this.cursors.values()) {
      for (const d of cursor.deliveries.values()) {
        if (d.done || !d.autoRenew || d.clientId === undefined || d.visibleAt <= now) continue;
        if (d.visibleAt - now > RENEW_AHEAD_MS || (d.renewUntil ?? 0) <= now) continue;
        if (!connected(d.clientId)) continue;
        d.visibleAt = Math.min(now + invisibleMs, d.renewUntil ?? now);
        this.cursorChanged(cursor);
      }
    }
  }

  /** A client said goodbye: what it held with auto-renew (push consumers) is visible again now. */
  releaseClient(clientId: string): void {
    const now = this.clock.now();
    let released = false;
    for (const cursor of this.cursors.values()) {
      for (const delivery of cursor.deliveries.values()) {
        if (
          !delivery.done &&
          delivery.autoRenew &&
          delivery.clientId === clientId &&
          delivery.visibleAt > now
        ) {
          delivery.visibleAt = now;
          released = true;
          this.cursorChanged(cursor);
        }
      }
    }
    if (released) this.notify();
  }

  /** Long polls waiting for a change right now, so a test can act once a poll is really waiting. */
  get pendingPolls(): number {
    return this.waiters.size;
  }

  /** Resolves on the next change, after `ms`, on abort, or when the engine closes. */
  waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wake every long poll for good (stop()). */
  close(): void {
    this.closed = true;
    this.notify();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  protected current(groupName: string, topicName: string, handle: string) {
    const group = this.existingGroup(groupName);
    const topic = this.existingTopic(topicName);
    const offset = parseHandleOffset(handle);
    const cursor = this.cursors.get(cursorKey(group.name, topic.name));
    const delivery = offset === undefined ? undefined : cursor?.deliveries.get(offset);
    const message = offset === undefined ? undefined : topic.messages[offset];
    if (
      cursor === undefined ||
      offset === undefined ||
      delivery === undefined ||
      message === undefined ||
      delivery.done ||
      delivery.handle !== handle
    ) {
      fail('INVALID_RECEIPT_HANDLE', 'receipt handle is invalid or was already used');
    }
    if (delivery.visibleAt <= this.clock.now()) fail('INVALID_RECEIPT_HANDLE', 'receipt handle is expired');
    return { group, topic, cursor, offset, delivery, message };
  }

  protected deadLetter(group: Group, topicName: string, message: StoredMessage): void {
    const dlq = dlqTopicOf(group.name);
    if (!this.topics.has(dlq)) this.createTopic(dlq, { type: 'MIXED', queues: 1 });
    this.append(dlq, {
      messageId: message.messageId,
      // Dead letters are plain messages whatever they were; the DLQ accepts them all.
      type: 'NORMAL',
      ...(message.tag !== undefined ? { tag: message.tag } : {}),
      keys: message.keys,
      ...(message.messageGroup !== undefined ? { messageGroup: message.messageGroup } : {}),
      body: message.body,
      properties: message.properties,
      bornTimestamp: message.bornTimestamp,
      bornHost: message.bornHost,
      deadLetter: { topic: topicName, messageId: message.messageId },
    });
  }
}
