// The Pulsar engine's units for the `--state` journal: one partition entry (appended once, never
// changed) and one subscription cursor per partition. Keys are newline-separated because no
// cluster, namespace, topic or subscription name can contain a newline.

import type { Cluster, Entry, Subscription, Topic } from './model.js';
import { type CursorJson, cursorFromJson, cursorToJson } from './snapshot.js';

export const entryUnit = (topic: Topic, part: number, entryId: number): string =>
  ['e', topic.clusterId, topic.namespace, topic.name, part, entryId].join('\n');

export const cursorUnit = (topic: Topic, sub: Subscription, part: number): string =>
  ['c', topic.clusterId, topic.namespace, topic.name, sub.name, part].join('\n');

interface Located {
  readonly kind: string;
  readonly topic: Topic | undefined;
  readonly rest: string[];
}

function locate(clusters: Map<string, Cluster>, unit: string): Located {
  const [kind = '', clusterId = '', ns = '', name = '', ...rest] = unit.split('\n');
  return { kind, topic: clusters.get(clusterId)?.namespaces.get(ns)?.topics.get(name), rest };
}

export function unitRecord(clusters: Map<string, Cluster>, unit: string): unknown {
  const { kind, topic, rest } = locate(clusters, unit);
  if (topic === undefined) return null;
  if (kind === 'e') {
    const part = topic.parts[Number(rest[0])];
    const first = part?.entries[0];
    if (part === undefined || first === undefined) return null;
    return part.entries[Number(rest[1]) - first.entryId] ?? null;
  }
  const cursor = topic.subs.get(rest[0] ?? '')?.cursors[Number(rest[1])];
  return cursor === undefined ? null : cursorToJson(cursor);
}

/** Applies a journaled unit; returns the entry's seq so the engine can move its counter past it. */
export function applyUnit(clusters: Map<string, Cluster>, unit: string, record: unknown): number {
  const { kind, topic, rest } = locate(clusters, unit);
  if (topic === undefined || record === null) return -1;
  if (kind === 'e') {
    const part = topic.parts[Number(rest[0])];
    const entry = record as Entry;
    if (part === undefined || entry.entryId < part.nextEntryId) return entry.seq;
    part.entries.push({ ...entry });
    part.nextEntryId = entry.entryId + 1;
    part.totalBytes += entry.bytes;
    return entry.seq;
  }
  const sub = topic.subs.get(rest[0] ?? '');
  const index = Number(rest[1]);
  if (sub !== undefined && index < sub.cursors.length)
    sub.cursors[index] = cursorFromJson(record as CursorJson);
  return -1;
}
