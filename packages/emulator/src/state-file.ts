// `--state FILE`: engine snapshots as one JSON document, written atomically (temp file + rename)
// so a crash mid-write never leaves a truncated file behind.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CmqSnapshot } from './cmq/engine.js';

export interface StateDocument {
  readonly version: 1;
  readonly savedAt: string;
  /** Which journal (FILE.journal) extends this snapshot; absent in files written before the journal. */
  readonly generation?: number;
  readonly cmq: CmqSnapshot;
  /** The Tencent Cloud API handler's own state (its Pulsar engine). */
  readonly api?: unknown;
  /** The RocketMQ engine's topics, groups, messages and consumption progress. */
  readonly rocketmq?: unknown;
}

export async function loadState(path: string): Promise<StateDocument | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`state file ${path} is not valid JSON`);
  }
  const d = doc as Partial<StateDocument> | null;
  if (d === null || typeof d !== 'object' || d.version !== 1 || typeof d.cmq !== 'object') {
    throw new Error(`state file ${path} is not an emulator state document (version 1)`);
  }
  return d as StateDocument;
}

/** Synchronous so a commit finishes before the reply it guards; `fsync` also flushes it to disk. */
export function saveStateSync(path: string, doc: StateDocument, fsync: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, JSON.stringify(doc));
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
