// `--state FILE` durability: a snapshot (FILE) plus an append-only journal (FILE.journal) of the
// records that changed since it. Every reply that confirms a change is preceded by a commit()
// that writes those records with one fs.writeSync, so a confirmed send survives kill -9: the
// bytes are in the kernel's page cache once write() returns, and only a machine crash (not a
// process death) can lose them; `fsync` adds an fdatasync per commit for that case.
//
// Engines report changes by unit (one message, one cursor...) through a ChangeSink; the record of
// a unit is read when the commit runs, so ten changes to one message in a tick cost one line.
// What a unit cannot express (a queue created, settings changed) marks the state "reshaped", and
// the commit writes a whole snapshot instead, which also empties the journal (compaction).
//
// Crash safety of compaction: the snapshot carries a generation; the journal's first line names
// the generation it extends. The new snapshot is written to a temp file and renamed over FILE
// before the journal is truncated, so a crash between the two leaves a journal of an older
// generation, which the next start ignores (its records are in the snapshot already).

import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { type StateDocument, saveStateSync } from '../state-file.js';

export interface ChangeSink {
  /** The unit's record changed or the unit is gone: journal its current record at the next commit. */
  changed(unit: string): void;
  /** A change no unit record expresses: the next commit writes a full snapshot. */
  reshaped(): void;
}

export const NO_CHANGES: ChangeSink = Object.freeze({ changed() {}, reshaped() {} });

/** What an engine offers the journal: read a unit's current record, apply one read back. */
export interface JournaledEngine {
  /** JSON-safe record of the unit now, or null when it no longer exists. */
  record(unit: string): unknown;
  /** Apply a record from the journal onto restored state (null: the unit is gone). */
  apply(unit: string, record: unknown): void;
}

export interface StateJournalOptions {
  readonly path: string;
  /** Generation of the snapshot the engines were restored from (0 when there was none). */
  readonly generation: number;
  readonly engines: Readonly<Record<string, JournaledEngine>>;
  /** The whole state, for compaction. */
  readonly snapshot: () => Omit<StateDocument, 'version' | 'savedAt' | 'generation'>;
  /** fdatasync after every commit (survives a machine crash, costs a disk flush per commit). */
  readonly fsync?: boolean;
  /** Compact once the journal is this large. Default 64 MiB. */
  readonly maxJournalBytes?: number;
}

interface Line {
  readonly e: string;
  readonly u: string;
  readonly r: unknown;
}

export class StateJournal {
  private generation: number;
  private readonly dirty = new Map<string, Set<string>>();
  private reshape = false;
  private fd: number | undefined;
  private bytes = 0;
  private scheduled = false;
  private readonly journalPath: string;
  private sealed = false;

  constructor(private readonly options: StateJournalOptions) {
    this.generation = options.generation;
    this.journalPath = `${options.path}.journal`;
  }

  sinkFor(engine: string): ChangeSink {
    const units = new Set<string>();
    this.dirty.set(engine, units);
    return {
      changed: (unit) => {
        units.add(unit);
        this.schedule();
      },
      reshaped: () => {
        this.reshape = true;
        this.schedule();
      },
    };
  }

  /**
   * Apply the journal left by the previous run onto the restored snapshot; returns how many
   * records were applied. A torn last line (a crash inside a write) ends the replay.
   */
  replay(): number {
    let text: string;
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const lines = text.split('\n');
    const header = parseLine(lines[0] ?? '') as { generation?: unknown } | undefined;
    if (header?.generation !== this.generation) return 0;
    let applied = 0;
    for (const raw of lines.slice(1)) {
      if (raw === '') continue;
      const line = parseLine(raw) as Line | undefined;
      if (line === undefined) break;
      const engine = this.options.engines[line.e];
      if (engine === undefined) continue;
      engine.apply(line.u, line.r);
      applied++;
    }
    return applied;
  }

  /** A change the engines did not report as units (settings, topology): snapshot at the next commit. */
  markReshaped(): void {
    this.reshape = true;
  }

  /** Make every change reported so far durable (a journal append, or a snapshot if reshaped). */
  commit(): void {
    if (this.sealed) return;
    if (this.reshape) {
      this.compact();
      return;
    }
    let text = '';
    for (const [engineName, units] of this.dirty) {
      if (units.size === 0) continue;
      const engine = this.options.engines[engineName]!;
      for (const u of units) text += `${JSON.stringify({ e: engineName, u, r: engine.record(u) ?? null })}\n`;
      units.clear();
    }
    if (text === '') return;
    const fd = this.open();
    const buffer = Buffer.from(text);
    writeSync(fd, buffer);
    if (this.options.fsync) fdatasyncSync(fd);
    this.bytes += buffer.length;
    if (this.bytes > (this.options.maxJournalBytes ?? 64 * 1024 * 1024)) this.compact();
  }

  /** Write the whole state as a new snapshot and start an empty journal for it. */
  compact(): void {
    for (const units of this.dirty.values()) units.clear();
    this.reshape = false;
    const generation = this.generation + 1;
    saveStateSync(
      this.options.path,
      {
        version: 1,
        savedAt: new Date().toISOString(),
        generation,
        ...this.options.snapshot(),
      },
      this.options.fsync ?? false,
    );
    this.generation = generation;
    const fd = this.open();
    ftruncateSync(fd, 0);
    const header = Buffer.from(`${JSON.stringify({ generation })}\n`);
    writeSync(fd, header);
    if (this.options.fsync) fdatasyncSync(fd);
    this.bytes = header.length;
  }

  /** True when records were journaled since the last snapshot. */
  get pending(): boolean {
    return this.bytes > Buffer.byteLength(`${JSON.stringify({ generation: this.generation })}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  // Changes made outside a request (background sweeps, timers) are committed on the next turn of
  // the event loop; a request's own changes are committed before its reply, earlier.
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.sealed) return;
      try {
        this.commit();
      } catch (error) {
        process.emitWarning(`emulator state not journaled: ${String(error)}`);
      }
    });
  }

  /** After the final snapshot: later changes (engines winding down) are not written. */
  seal(): void {
    this.sealed = true;
    this.close();
  }

  private open(): number {
    if (this.fd === undefined) {
      // O_APPEND: after ftruncate the next write lands at offset 0 again.
      this.fd = openSync(this.journalPath, 'a');
      this.bytes = fstatSync(this.fd).size;
    }
    return this.fd;
  }
}

function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
