// Between the shared store and the 4.x wire: what a Remoting send stores (tag, keys and message id
// lifted out of the property string, the rest kept as properties the gRPC side shows as user
// properties) and the commit-log record a pull returns for any stored message, whichever protocol
// sent it.

import { isIP } from 'node:net';
import {
  MessageConst,
  offsetMsgId,
  type StoredMessage as RemotingRecord,
} from '@switchyard/rocketmq-remoting';
import type { StoredMessage } from '../rocketmq/model.js';
import type { QueueEntry } from './queues.js';

/** Properties that map to engine fields (or are the broker's to add), not stored as properties. */
const LIFTED = new Set<string>([
  MessageConst.TAGS,
  MessageConst.KEYS,
  MessageConst.UNIQ_KEY,
  MessageConst.WAIT,
  MessageConst.DELAY,
  MessageConst.CLUSTER,
  MessageConst.RECONSUME_TIME,
  MessageConst.MAX_RECONSUME_TIMES,
]);

export interface Lifted {
  readonly tag?: string;
  readonly keys: string[];
  readonly uniqKey?: string;
  readonly properties: Record<string, string>;
}

export function liftProperties(props: Readonly<Record<string, string>>): Lifted {
  const tag = props[MessageConst.TAGS];
  const uniqKey = props[MessageConst.UNIQ_KEY];
  const keys = (props[MessageConst.KEYS] ?? '').split(' ').filter((k) => k !== '');
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (!LIFTED.has(k)) properties[k] = v;
  return {
    ...(tag !== undefined && tag !== '' ? { tag } : {}),
    keys,
    ...(uniqKey !== undefined && uniqKey !== '' ? { uniqKey } : {}),
    properties,
  };
}

/** Every property a 4.x consumer sees: the stored ones plus tag, keys, id and cluster. */
export function wireProperties(m: StoredMessage, cluster: string): Record<string, string> {
  const props: Record<string, string> = { ...m.properties };
  if (m.tag !== undefined) props[MessageConst.TAGS] = m.tag;
  if (m.keys.length > 0) props[MessageConst.KEYS] = m.keys.join(' ');
  // A gRPC client's message id is its UNIQ_KEY; Java consumers prefer it to the offsetMsgId.
  props[MessageConst.UNIQ_KEY] = m.messageId;
  if (m.messageGroup !== undefined) props[MessageConst.SHARDING_KEY] = m.messageGroup;
  props[MessageConst.CLUSTER] = cluster;
  return props;
}

export function toRecord(entry: QueueEntry, storeHost: string, cluster: string): RemotingRecord {
  const m = entry.message;
  return {
    topic: entry.topic,
    queueId: entry.queueId,
    flag: m.flag ?? 0,
    queueOffset: entry.queueOffset,
    commitLogOffset: m.seq,
    sysFlag: 0,
    bornTimestamp: m.bornTimestamp,
    bornHost: hostPort(m.bornHost),
    storeTimestamp: Math.max(m.storeTimestamp, m.deliveryTimestamp ?? 0),
    storeHost,
    reconsumeTimes: m.reconsumeTimes ?? 0,
    preparedTransactionOffset: 0,
    body: m.body,
    properties: wireProperties(m, cluster),
  };
}

export function messageIdOf(storeHost: string, m: StoredMessage): string {
  return offsetMsgId(storeHost, m.seq);
}

/** A born host the record can carry: gRPC clients send a host name, which has no address form. */
export function hostPort(host: string): string {
  const at = host.lastIndexOf(':');
  const ip = at < 0 ? host : host.slice(0, at).replace(/^\[|\]$/g, '');
  const port = at < 0 ? 0 : Number(host.slice(at + 1));
  if (isIP(ip) === 0 || !Number.isInteger(port) || port < 0 || port > 65535) return '0.0.0.0:0';
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
