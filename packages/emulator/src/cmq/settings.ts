// CMQ limits and the validation of names, settings, tags, keys and endpoints (protocols/cmq.md
// §5–§7), shared by the queue and topic sides of the engine. Each failure is the CmqError the
// wire answers with.

import { cmqErrors } from './errors.js';
import type { ListOptions, NotifyContentFormat, NotifyStrategy, QueueSettings } from './types.js';

export const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
export const MAX_BATCH = 16;
export const MAX_BATCH_BYTES = 1024 * 1024;
export const MAX_TAGS = 5;
export const MAX_TAG_LENGTH = 16;
const MAX_KEY_BYTES = 64;
const MAX_KEY_DOTS = 15;
export const TOPIC_RETENTION_SECONDS = 86400;
export const MAX_SUBSCRIPTIONS = 100;

export const DEFAULT_QUEUE_SETTINGS: Readonly<QueueSettings> = {
  maxMsgHeapNum: 10_000_000,
  pollingWaitSeconds: 0,
  visibilityTimeout: 30,
  maxMsgSize: 65536,
  msgRetentionSeconds: 345600,
  rewindSeconds: 0,
  deadLetterPolicy: null,
};

export const seconds = (ms: number): number => Math.floor(ms / 1000);
/** Queue, topic and subscription names are unique case-insensitively. */
export const key = (name: string): string => name.toLowerCase();

export function range(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw cmqErrors.outOfRange(name);
}

export function validateTopicSize(size: number): number {
  range(size, 1024, 1_048_576, 'maxMsgSize');
  return size;
}

export function validateKey(k: string, name: string): void {
  if (Buffer.byteLength(k) > MAX_KEY_BYTES) throw cmqErrors.outOfRange(name);
  if (k.split('.').length - 1 > MAX_KEY_DOTS) throw cmqErrors.tooManyDelimiters();
}

export function validateFilterTags(tags: readonly string[]): string[] {
  if (tags.length > MAX_TAGS) throw cmqErrors.tooManyFilterTags();
  if (tags.some((t) => t.length === 0 || t.length > MAX_TAG_LENGTH)) throw cmqErrors.outOfRange('filterTag');
  return [...tags];
}

export function validateBindingKeys(keys: readonly string[]): string[] {
  if (keys.length > MAX_TAGS) throw cmqErrors.tooManyBindingKeys();
  for (const k of keys) {
    if (k.length === 0) throw cmqErrors.outOfRange('bindingKey');
    validateKey(k, 'bindingKey');
  }
  return [...keys];
}

export function validateHttpEndpoint(endpoint: string): void {
  if (/\s/.test(endpoint)) throw cmqErrors.blankInUrl();
  if (!/^https?:\/\//i.test(endpoint)) throw cmqErrors.endpointFormat();
  try {
    new URL(endpoint);
  } catch {
    throw cmqErrors.endpointFormat();
  }
}

export function parseStrategy(value: string): NotifyStrategy {
  if (value === 'BACKOFF_RETRY' || value === 'EXPONENTIAL_DECAY_RETRY') return value;
  throw cmqErrors.undefinedStrategy();
}

export function parseFormat(value: string): NotifyContentFormat {
  if (value === 'JSON' || value === 'SIMPLIFIED') return value;
  throw cmqErrors.undefinedContentFormat();
}

export function isWellFormedHandle(handle: string): boolean {
  return /^[a-zA-Z\d%#:_-]{1,256}$/.test(handle);
}

export function matchesSearch(name: string, searchWord: string | undefined): boolean {
  return (
    searchWord === undefined || searchWord === '' || name.toLowerCase().includes(searchWord.toLowerCase())
  );
}

export function paginate<T>(items: readonly T[], options: ListOptions): T[] {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? 20;
  return items.slice(offset, offset + limit);
}

export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
