// Portable messages ↔ Remoting messages. Headers are user properties, the one tag is TAGS, keys
// are KEYS (space-separated), the portable id is UNIQ_KEY (the id Java's SendResult and a
// consumer's getMsgId() report), an ordering key is __SHARDINGKEY (the property RocketMQ 5 keeps
// a message group in, so gRPC and Remoting clients of one store agree). Delay is a 4.x delay
// level (the next one at or above the wish) or, on TDMQ, an exact __STARTDELIVERTIME.

import { inflateSync } from 'node:zlib';
import { InvalidArgumentError, type Outgoing } from '@switchyard/core/driver';
import {
  DELAY_LEVELS_MS,
  MessageConst,
  MessageSysFlag,
  type StoredMessage,
} from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';
import { CONTENT_TYPE_PROPERTY, needsContentType, validateKeys } from '../messages.js';
import { validateTag } from '../tags.js';
import { RemotingDelivery, SYSTEM_PROPERTIES } from './delivery.js';

export type DelayMode = 'levels' | 'startDeliverTime';

/** TDMQ's limit for __STARTDELIVERTIME. */
export const MAX_START_DELIVER_MS = 40 * 86_400_000;

/** The smallest delay level whose delay is at least `ms` (18, two hours, at most). */
export function delayLevelFor(ms: number): number {
  const index = DELAY_LEVELS_MS.findIndex((level) => level >= ms);
  return index < 0 ? DELAY_LEVELS_MS.length : index + 1;
}

/** The properties of one outgoing message (without the batch-wide WAIT). */
export function toProperties(
  message: Outgoing,
  delayMode: DelayMode,
  now = Date.now(),
): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (SYSTEM_PROPERTIES.has(name)) {
      throw new InvalidArgumentError(
        `header "${name}" is a RocketMQ system property name; rename it (Remoting would read it as that property)`,
        { driver: DRIVER, details: { header: name } },
      );
    }
    props[name] = value;
  }
  if (needsContentType(message)) props[CONTENT_TYPE_PROPERTY] = message.contentType;
  const tag = message.tags[0];
  if (tag !== undefined) props[MessageConst.TAGS] = validateTag(tag);
  const keys = message.keys ?? (message.key === undefined ? [] : [message.key]);
  if (keys.length > 0) props[MessageConst.KEYS] = validateKeys(keys).join(' ');
  if (message.orderingKey !== undefined) props[MessageConst.SHARDING_KEY] = message.orderingKey;
  props[MessageConst.UNIQ_KEY] = message.id;
  if (message.delayMs !== undefined && message.delayMs > 0) {
    if (delayMode === 'startDeliverTime')
      props[MessageConst.START_DELIVER_TIME] = String(now + message.delayMs);
    else props[MessageConst.DELAY] = String(delayLevelFor(message.delayMs));
  }
  return props;
}

/** Settling state of one delivery: the delivery itself (see delivery.ts). */
export type RemotingHandle = RemotingDelivery;

/**
 * `shared`: the group shares the message (clustering), so its stored position is the key an
 * attemptStore counts; broadcasting members each get every message and count apart (no key).
 */
export function toDelivery(
  message: StoredMessage,
  queue: string,
  address: string,
  shared = true,
): RemotingDelivery {
  // Inflated here, not when first read: a corrupt compressed body fails the pull that brought it,
  // as it always has, rather than a handler's read of the body.
  const body =
    (message.sysFlag & MessageSysFlag.COMPRESSED) === 0 ? undefined : toView(inflateSync(message.body));
  return new RemotingDelivery(message, queue, address, shared, message.reconsumeTimes + 1, body);
}

function toView(raw: Buffer): Uint8Array {
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}
