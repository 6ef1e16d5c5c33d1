// Request parameters as CMQ sees them: a flat name → value form (body for POST, query for GET),
// names case-sensitive, repeated names rejected, arrays spelled `name.N` from 0 or 1, contiguous.

import { cmqErrors } from './errors.js';

const INT = /^[+-]?\d{1,15}$/;
const INDEX = /^\d{1,6}$/;

export class Params {
  private constructor(
    /** In arrival order, Signature included. */
    readonly entries: ReadonlyArray<readonly [string, string]>,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  static parse(search: URLSearchParams): Params {
    const entries: Array<readonly [string, string]> = [];
    const values = new Map<string, string>();
    for (const [name, value] of search) {
      if (values.has(name)) throw cmqErrors.notRepeatable(name);
      values.set(name, value);
      entries.push([name, value]);
    }
    return new Params(entries, values);
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  required(name: string): string {
    const value = this.values.get(name);
    if (value === undefined) throw cmqErrors.missingParameter(name);
    return value;
  }

  int(name: string): number | undefined {
    const value = this.values.get(name);
    if (value === undefined) return undefined;
    if (!INT.test(value)) throw cmqErrors.errorType(name);
    return Number(value);
  }

  requiredInt(name: string): number {
    const value = this.int(name);
    if (value === undefined) throw cmqErrors.missingParameter(name);
    return value;
  }

  /** `prefix.N` values in index order; undefined when none was sent. */
  list(prefix: string, max: number): string[] | undefined {
    const found: Array<[number, string]> = [];
    const dotted = `${prefix}.`;
    for (const [name, value] of this.entries) {
      if (!name.startsWith(dotted)) continue;
      const index = name.slice(dotted.length);
      if (!INDEX.test(index)) throw cmqErrors.keyFormat(name);
      found.push([Number(index), value]);
    }
    if (found.length === 0) return undefined;
    found.sort((a, b) => a[0] - b[0]);
    const base = found[0]![0];
    if (base > 1 || found.some(([i], n) => i !== base + n)) throw cmqErrors.notConsequent(prefix);
    if (found.length > max) throw cmqErrors.batchSize(prefix);
    return found.map(([, v]) => v);
  }

  requiredList(prefix: string, max: number): string[] {
    const values = this.list(prefix, max);
    if (values === undefined) throw cmqErrors.missingParameter(prefix);
    return values;
  }
}
