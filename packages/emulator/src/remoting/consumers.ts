// Consumer groups as the broker knows them from heartbeats: which connections (and client ids)
// belong to a group and what each subscribes to. Membership changes are reported so the server can
// send NOTIFY_CONSUMER_IDS_CHANGED to the group, as Apache's ConsumerManager does when a channel
// joins, its topics change, it unregisters, its connection closes or it stays silent too long.

import { jsonObjectBody } from './body.js';
import { type Subscription, subscriptionOf } from './subscriptions.js';

/** One client connection; the server's socket wrapper. */
export interface Member {
  readonly connectionId: number;
}

interface Registration {
  clientId: string;
  lastSeen: number;
  subscriptions: Map<string, Subscription>;
}

export interface ConsumerData {
  readonly group: string;
  readonly subscriptions: readonly Subscription[];
}

/** Parses a HEART_BEAT body; throws a RemotingCommandException the caller answers with code 1. */
export function parseHeartbeat(body: Buffer | undefined): { clientId: string; consumers: ConsumerData[] } {
  const data = jsonObjectBody(body, 'HeartbeatData');
  const clientId = typeof data.clientID === 'string' ? data.clientID : '';
  const consumers: ConsumerData[] = [];
  for (const c of Array.isArray(data.consumerDataSet) ? data.consumerDataSet : []) {
    const group = (c as Record<string, unknown>)?.groupName;
    if (typeof group !== 'string' || group === '') continue;
    const subs = (c as Record<string, unknown>).subscriptionDataSet;
    consumers.push({
      group,
      subscriptions: (Array.isArray(subs) ? subs : [])
        .map(subscriptionOf)
        .filter((s): s is Subscription => s !== undefined),
    });
  }
  return { clientId, consumers };
}

export class ConsumerRegistry<M extends Member = Member> {
  private readonly groups = new Map<string, Map<M, Registration>>();

  /** Register or refresh; returns true when the group must be told (new member or topics changed). */
  heartbeat(member: M, clientId: string, data: ConsumerData, now: number): boolean {
    let members = this.groups.get(data.group);
    if (members === undefined) {
      members = new Map();
      this.groups.set(data.group, members);
    }
    const existing = members.get(member);
    const subscriptions = new Map(existing?.subscriptions);
    let changed = existing === undefined;
    for (const sub of data.subscriptions) {
      const old = subscriptions.get(sub.topic);
      if (old === undefined) changed = true;
      // A newer subVersion replaces the subscription, as ConsumerGroupInfo#updateSubscription.
      if (old === undefined || sub.subVersion >= old.subVersion) subscriptions.set(sub.topic, sub);
    }
    const topics = new Set(data.subscriptions.map((s) => s.topic));
    for (const topic of [...subscriptions.keys()]) {
      if (!topics.has(topic)) {
        subscriptions.delete(topic);
        changed = true;
      }
    }
    members.set(member, { clientId, lastSeen: now, subscriptions });
    return changed;
  }

  /** UNREGISTER_CLIENT: true when the client was a member. */
  unregister(clientId: string, group: string): boolean {
    const members = this.groups.get(group);
    if (members === undefined) return false;
    let removed = false;
    for (const [member, reg] of members) {
      if (reg.clientId === clientId) {
        members.delete(member);
        removed = true;
      }
    }
    if (members.size === 0) this.groups.delete(group);
    return removed;
  }

  /** A connection closed or went silent: the groups it left. */
  remove(member: M): string[] {
    const left: string[] = [];
    for (const [group, members] of this.groups) {
      if (members.delete(member)) left.push(group);
      if (members.size === 0) this.groups.delete(group);
    }
    return left;
  }

  /** Members silent for longer than `maxSilentMs` (the broker: 120 s). */
  silent(now: number, maxSilentMs: number): M[] {
    const out = new Set<M>();
    for (const members of this.groups.values()) {
      for (const [member, reg] of members) if (now - reg.lastSeen > maxSilentMs) out.add(member);
    }
    return [...out];
  }

  consumerIds(group: string): string[] {
    return [...new Set([...(this.groups.get(group)?.values() ?? [])].map((r) => r.clientId))];
  }

  members(group: string): M[] {
    return [...(this.groups.get(group)?.keys() ?? [])];
  }

  /** Groups with their client ids and subscription expressions, for `/_emulator/state`. */
  inspect(): Record<string, { consumers: string[]; subscriptions: Record<string, string> }> {
    const out: Record<string, { consumers: string[]; subscriptions: Record<string, string> }> = {};
    for (const [group, members] of this.groups) {
      const subscriptions: Record<string, string> = {};
      for (const reg of members.values())
        for (const [topic, sub] of reg.subscriptions) subscriptions[topic] = sub.subString;
      out[group] = { consumers: this.consumerIds(group), subscriptions };
    }
    return out;
  }

  /** The newest subscription of the group to a topic (what a pull without one uses). */
  subscription(group: string, topic: string): Subscription | undefined {
    let best: Subscription | undefined;
    for (const reg of this.groups.get(group)?.values() ?? []) {
      const sub = reg.subscriptions.get(topic);
      if (sub !== undefined && (best === undefined || sub.subVersion > best.subVersion)) best = sub;
    }
    return best;
  }
}
