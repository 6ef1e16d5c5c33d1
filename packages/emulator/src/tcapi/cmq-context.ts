// What the Tencent Cloud API's CMQ actions share: their context (the CmqEngine plus the attributes
// only this API has, kept beside the engine), the mapping of engine errors to API codes, and the
// paging and tag-filter parameters.

import type { CmqEngine } from '../cmq/engine.js';
import { CmqError } from '../cmq/errors.js';
import { type ActionContext, invalidValue } from './action.js';
import { arr, bool, int, type Params } from './params.js';

export interface Tag {
  TagKey: string;
  TagValue: string;
}

export interface QueueExtra {
  id: string;
  tags: Tag[];
  trace: boolean;
  transaction: number;
  retentionSizeInMB: number;
  firstQueryInterval: number | null;
  maxQueryCount: number | null;
}

export interface TopicExtra {
  id: string;
  tags: Tag[];
  trace: boolean;
  msgRetentionSeconds: number;
}

/** API-only attributes of CMQ resources, keyed by lower-cased name (CMQ names are case-insensitive). */
export class CmqExtras {
  readonly queues = new Map<string, QueueExtra>();
  readonly topics = new Map<string, TopicExtra>();

  queue(attrs: { queueId: string; queueName: string }): QueueExtra {
    const k = attrs.queueName.toLowerCase();
    const found = this.queues.get(k);
    if (found && found.id === attrs.queueId) return found;
    const fresh: QueueExtra = {
      id: attrs.queueId,
      tags: [],
      trace: false,
      transaction: 0,
      retentionSizeInMB: 0,
      firstQueryInterval: null,
      maxQueryCount: null,
    };
    this.queues.set(k, fresh);
    return fresh;
  }

  topic(attrs: { topicId: string; topicName: string }): TopicExtra {
    const k = attrs.topicName.toLowerCase();
    const found = this.topics.get(k);
    if (found && found.id === attrs.topicId) return found;
    const fresh: TopicExtra = { id: attrs.topicId, tags: [], trace: false, msgRetentionSeconds: 86_400 };
    this.topics.set(k, fresh);
    return fresh;
  }

  snapshot(): unknown {
    return { queues: [...this.queues], topics: [...this.topics] };
  }

  restore(data: unknown): void {
    const d = data as { queues?: [string, QueueExtra][]; topics?: [string, TopicExtra][] } | undefined;
    this.queues.clear();
    this.topics.clear();
    for (const [k, v] of d?.queues ?? []) this.queues.set(k, v);
    for (const [k, v] of d?.topics ?? []) this.topics.set(k, v);
  }
}

export type CmqContext = ActionContext & { readonly cmq: CmqEngine; readonly cmqExtras: CmqExtras };

export const ALL = Number.MAX_SAFE_INTEGER;
/** Shown as CreateUin / TopicOwner: the emulator has one pretend account. */
export const EMULATOR_UIN = 100000000001;
export const TENANT_ID = 'emulator';

/** CMQ engine failures → the codes TDMQ's API returns for them (fact sheet §3.4). */
export function cmqErrorToApi(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof CmqError)) return undefined;
  const byModule: Record<number, string> = {
    10100: 'ResourceNotFound',
    10600: err.text.startsWith('subscription') ? 'ResourceNotFound.Subscription' : 'ResourceNotFound.Topic',
    10550: 'ResourceInUse.Topic',
    10470: err.code === 4490 ? 'ResourceInUse.Subscription' : 'InvalidParameterValue',
    10220: 'LimitExceeded',
    10610: 'LimitExceeded.Topics',
    10480: 'LimitExceeded.Subscriptions',
    10660: 'FailedOperation',
    10540: 'FailedOperation',
    10650: 'FailedOperation',
    10730: 'FailedOperation',
    10670: err.code === 6050 ? 'FailedOperation' : 'InvalidParameterValue',
    10050: 'InternalError',
  };
  const code =
    err.code === 4460 && err.module === 4460
      ? 'ResourceInUse.Queue'
      : (byModule[err.module] ??
        (err.code === 4000
          ? 'InvalidParameterValue'
          : err.code >= 6000
            ? 'FailedOperation'
            : 'FailedOperation'));
  return { code, message: err.text };
}

export function page(p: Params) {
  const offset = int(p, 'Offset') ?? 0;
  const limit = int(p, 'Limit') ?? 20;
  if (offset < 0) throw invalidValue('Offset', 'must not be negative');
  if (limit < 0) throw invalidValue('Limit', 'must not be negative');
  return { offset, limit: Math.min(limit, 50) };
}

/** `Filters: [{ Name: 'tag:<key>', Values: [...] }]` with IsTagFilter. */
export function tagFilter(p: Params): (tags: readonly Tag[]) => boolean {
  const filters = (arr<{ Name?: string; Values?: string[] }>(p, 'Filters') ?? []).filter((f) =>
    f.Name?.startsWith('tag:'),
  );
  if (bool(p, 'IsTagFilter') !== true || filters.length === 0) return () => true;
  return (tags) =>
    filters.every((f) => {
      const key = (f.Name as string).slice(4);
      return tags.some((t) => t.TagKey === key && (!f.Values?.length || f.Values.includes(t.TagValue)));
    });
}

export function retention(p: Params, name: string, min: number, max: number): number | undefined {
  const v = int(p, name);
  if (v !== undefined && (v < min || v > max)) throw invalidValue(name, `must be between ${min} and ${max}`);
  return v;
}
