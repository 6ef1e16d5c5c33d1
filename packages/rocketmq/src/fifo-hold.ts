// FIFO consumer groups: the broker hands out several consecutive messages of one message group in
// a batch, but the portable layer may nack the first and handle the next, breaking the order the
// group promises. So on a FIFO group the driver releases one message per message group at a
// time and holds the rest until that one is acked (or dead-lettered). A nacked head stays the
// head: the broker redelivers it before the held ones (they are in flight, so on both the proxy
// and the emulator they cannot overtake it), and redeliveries of held messages just refresh
// their receipt handles.

import type { MessageView } from 'rocketmq-client-nodejs';

interface Lane {
  head: string;
  readonly held: MessageView[];
}

export class FifoHold {
  readonly #lanes = new Map<string, Lane>();

  /** Filters a received batch to what may be handed out now; the rest is held. */
  admit(views: readonly MessageView[]): MessageView[] {
    const out: MessageView[] = [];
    for (const view of views) {
      const group = view.messageGroup;
      if (!group) {
        out.push(view);
        continue;
      }
      const lane = this.#lanes.get(group);
      if (lane === undefined) {
        this.#lanes.set(group, { head: view.messageId, held: [] });
        out.push(view);
      } else if (lane.head === view.messageId) {
        out.push(view); // the head again (nacked or expired): its next delivery
      } else {
        const index = lane.held.findIndex((h) => h.messageId === view.messageId);
        if (index >= 0)
          lane.held[index] = view; // redelivered while held: newer handle
        else lane.held.push(view);
      }
    }
    return out;
  }

  /** The head of its group was settled for good: the next held message, if any, is released. */
  settled(view: MessageView): MessageView | undefined {
    const group = view.messageGroup;
    if (!group) return undefined;
    const lane = this.#lanes.get(group);
    if (lane === undefined || lane.head !== view.messageId) return undefined;
    const next = lane.held.shift();
    if (next === undefined) {
      this.#lanes.delete(group);
      return undefined;
    }
    lane.head = next.messageId;
    return next;
  }

  /** Every held message (on close, to hand back to the broker). */
  drain(): MessageView[] {
    const all = [...this.#lanes.values()].flatMap((lane) => lane.held);
    this.#lanes.clear();
    return all;
  }

  get heldCount(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.held.length;
    return n;
  }
}
