// Subscriptions as a 4.x broker evaluates them: the TAG expression `A || B` becomes a set of Java
// String hash codes and a message matches when its tag's code is in the set (`*` or empty matches
// everything, an untagged message only `*`). Hash collisions pass here, as on the broker; the Java
// client filters again on the exact tag string.

import { tagsHashCode } from '@switchyard/rocketmq-remoting';

export interface Subscription {
  readonly topic: string;
  readonly subString: string;
  readonly expressionType: string;
  /** undefined = every message. */
  readonly codes?: ReadonlySet<number>;
  readonly subVersion: number;
}

export function parseSubscription(
  topic: string,
  subString: string | undefined,
  expressionType = 'TAG',
  subVersion = 0,
): Subscription {
  const text = (subString ?? '').trim();
  const base = { topic, subString: text === '' ? '*' : text, expressionType, subVersion };
  if (expressionType !== 'TAG' || text === '' || text === '*') return base;
  const tags = text
    .split('||')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (tags.length === 0 || tags.includes('*')) return base;
  return { ...base, codes: new Set(tags.map(tagsHashCode)) };
}

/** A heartbeat's SubscriptionData (ali-ons, Java and Go spell it alike). */
export function subscriptionOf(data: unknown): Subscription | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.topic !== 'string' || d.topic === '') return undefined;
  const type = typeof d.expressionType === 'string' && d.expressionType !== '' ? d.expressionType : 'TAG';
  const version = Number(d.subVersion ?? 0);
  const sub = parseSubscription(
    d.topic,
    typeof d.subString === 'string' ? d.subString : undefined,
    type,
    Number.isFinite(version) ? version : 0,
  );
  // The client's own codeSet wins: it is what the Java broker compares with.
  if (sub.codes !== undefined && Array.isArray(d.codeSet) && d.codeSet.length > 0) {
    return { ...sub, codes: new Set(d.codeSet.map(Number).filter(Number.isInteger)) };
  }
  return sub;
}

export function matchesTag(sub: Subscription, tag: string | undefined): boolean {
  if (sub.codes === undefined) return true;
  return tag !== undefined && sub.codes.has(tagsHashCode(tag));
}
