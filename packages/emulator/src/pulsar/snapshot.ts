// `--state FILE` persistence: the engine's state as plain JSON (Maps and Sets become arrays).
// Restoring validates the shape loosely and fails loudly rather than half-loading a corrupt file.

import type { Cluster, Cursor, Namespace, PartitionLog, Subscription, Topic } from './model.js';

export const SNAPSHOT_VERSION = 1;

export interface CursorJson {
  markDelete: number;
  readPos: number;
  acked: number[];
  inflight: [number, number][];
}

export interface PulsarSnapshot {
  version: number;
  seq: number;
  nextLedgerId: number;
  clusters: {
    id: string;
    remark: string;
    createdAt: number;
    namespaces: {
      name: string;
      msgTtlSec: number;
      retention: { timeInMinutes: number; sizeInMB: number } | null;
      remark: string;
      createdAt: number;
      updatedAt: number;
      topics: {
        name: string;
        partitioned: boolean;
        partitions: number;
        pulsarTopicType: number;
        topicType: number;
        remark: string;
        msgTtlSec: number | null;
        ackTimeoutSec: number | null;
        createdAt: number;
        updatedAt: number;
        rr: number;
        parts: PartitionLog[];
        subs: { name: string; createdAt: number; updatedAt: number; remark: string; cursors: CursorJson[] }[];
      }[];
    }[];
  }[];
}

export function toSnapshot(
  clusters: Map<string, Cluster>,
  seq: number,
  nextLedgerId: number,
): PulsarSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    seq,
    nextLedgerId,
    clusters: [...clusters.values()].map((c) => ({
      id: c.id,
      remark: c.remark,
      createdAt: c.createdAt,
      namespaces: [...c.namespaces.values()].map((ns) => ({
        name: ns.name,
        msgTtlSec: ns.msgTtlSec,
        retention: ns.retention ? { ...ns.retention } : null,
        remark: ns.remark,
        createdAt: ns.createdAt,
        updatedAt: ns.updatedAt,
        topics: [...ns.topics.values()].map((t) => ({
          name: t.name,
          partitioned: t.partitioned,
          partitions: t.partitions,
          pulsarTopicType: t.pulsarTopicType,
          topicType: t.topicType,
          remark: t.remark,
          msgTtlSec: t.msgTtlSec ?? null,
          ackTimeoutSec: t.ackTimeoutSec ?? null,
          createdAt: t.createdAt,
          updatedAt: t.updatedAt,
          rr: t.rr,
          parts: t.parts.map((p) => ({ ...p, entries: p.entries.map((e) => ({ ...e })) })),
          subs: [...t.subs.values()].map((s) => ({
            name: s.name,
            createdAt: s.createdAt,
            updatedAt: s.updatedAt,
            remark: s.remark,
            cursors: s.cursors.map(cursorToJson),
          })),
        })),
      })),
    })),
  };
}

export function cursorToJson(c: Cursor): CursorJson {
  return { markDelete: c.markDelete, readPos: c.readPos, acked: [...c.acked], inflight: [...c.inflight] };
}

export function cursorFromJson(cj: CursorJson): Cursor {
  return {
    markDelete: cj.markDelete,
    readPos: cj.readPos,
    acked: new Set(cj.acked),
    inflight: new Map(cj.inflight),
  };
}

function fail(what: string): never {
  throw new Error(`invalid Pulsar state snapshot: ${what}`);
}

export function fromSnapshot(data: unknown): {
  clusters: Map<string, Cluster>;
  seq: number;
  nextLedgerId: number;
} {
  const snap = data as PulsarSnapshot;
  if (typeof snap !== 'object' || snap === null || snap.version !== SNAPSHOT_VERSION) fail('version');
  if (!Array.isArray(snap.clusters)) fail('clusters');
  const clusters = new Map<string, Cluster>();
  for (const c of snap.clusters) {
    const namespaces = new Map<string, Namespace>();
    for (const ns of c.namespaces ?? fail('namespaces')) {
      const topics = new Map<string, Topic>();
      for (const t of ns.topics ?? fail('topics')) {
        const subs = new Map<string, Subscription>();
        for (const s of t.subs ?? fail('subs')) {
          subs.set(s.name, {
            name: s.name,
            createdAt: s.createdAt,
            updatedAt: s.updatedAt,
            remark: s.remark,
            deleted: false,
            cursors: s.cursors.map(cursorFromJson),
          });
        }
        topics.set(t.name, {
          clusterId: c.id,
          namespace: ns.name,
          name: t.name,
          partitioned: t.partitioned,
          partitions: t.partitions,
          pulsarTopicType: t.pulsarTopicType,
          topicType: t.topicType,
          remark: t.remark,
          msgTtlSec: t.msgTtlSec ?? undefined,
          ackTimeoutSec: t.ackTimeoutSec ?? undefined,
          createdAt: t.createdAt,
          updatedAt: t.updatedAt,
          rr: t.rr,
          parts: (t.parts ?? fail('parts')).map((p) => ({
            ...p,
            entries: p.entries.map((e) => ({ ...e })),
            totalBytes: p.entries.reduce((n, e) => n + e.bytes, 0),
          })),
          subs,
          deleted: false,
        });
      }
      namespaces.set(ns.name, {
        clusterId: c.id,
        name: ns.name,
        msgTtlSec: ns.msgTtlSec,
        retention: ns.retention ?? undefined,
        remark: ns.remark,
        createdAt: ns.createdAt,
        updatedAt: ns.updatedAt,
        topics,
      });
    }
    clusters.set(c.id, { id: c.id, name: c.id, remark: c.remark, createdAt: c.createdAt, namespaces });
  }
  return { clusters, seq: snap.seq, nextLedgerId: snap.nextLedgerId };
}
