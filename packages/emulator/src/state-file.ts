// `--state FILE`: engine snapshots as one JSON document, written atomically (temp file + rename)
// so a crash mid-write never leaves a truncated file behind.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CmqSnapshot } from './cmq/engine.js';

export interface StateDocument {
  readonly version: 1;
  readonly savedAt: string;
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

export async function saveState(path: string, doc: StateDocument): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(doc));
  await rename(temp, path);
}
