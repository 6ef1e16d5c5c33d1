// The FaultInjector: for each request pick the most specific rule and roll its dice. Each
// protocol:action pair has its own seeded stream, so a given seed and request sequence per action
// reproduces the same faults even when other actions interleave differently.

import type { FaultDecision, FaultInjector, ProtocolName } from '../contracts.js';
import { hashString, mulberry32, type Random } from './prng.js';
import { FaultConfigError, type FaultRule, validateRules } from './rules.js';

export interface FaultSettings {
  readonly seed: number;
  readonly rules: readonly FaultRule[];
}

const NONE: FaultDecision = { latencyMs: 0, kind: 'none' };

export class Faults implements FaultInjector {
  private seed: number;
  private rules: FaultRule[] = [];
  private readonly streams = new Map<string, Random>();
  private readonly counts = new Map<string, number>();

  constructor(settings: { seed?: number; rules?: readonly unknown[] } = {}) {
    this.seed = settings.seed ?? 1;
    if (settings.rules) this.setRules(settings.rules);
  }

  decide(protocol: ProtocolName, action: string): FaultDecision {
    const rule = this.ruleFor(protocol, action);
    if (rule === undefined) return NONE;
    const random = this.stream(`${protocol}:${action}`);
    const roll = random();
    const jitter = random();
    const spike = random();
    let latencyMs = rule.latencyMs + jitter * rule.latencyJitterMs;
    if (spike < rule.spikeRate) latencyMs += rule.spikeMs;
    let kind: FaultDecision['kind'] = 'none';
    if (roll < rule.errorRate) kind = 'error';
    else if (roll < rule.errorRate + rule.resetRate) kind = 'reset';
    else if (roll < rule.errorRate + rule.resetRate + rule.hangRate) kind = 'hang';
    else if (roll < rule.errorRate + rule.resetRate + rule.hangRate + rule.lostReplyRate) kind = 'lostReply';
    if (kind !== 'none') {
      const key = `${protocol}:${action}:${kind}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
    return { latencyMs: Math.round(latencyMs), kind };
  }

  /**
   * Faults injected so far, keyed `protocol:action:kind` (e.g. `cmq:SendMessage:lostReply`), so a
   * chaos test can prove its faults really happened. `clear()` and `setRules()` keep the counts;
   * `resetStats()` zeroes them.
   */
  stats(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetStats(): void {
    this.counts.clear();
  }

  /** Replace every rule (validated; throws FaultConfigError naming the bad field). Restarts the dice. */
  setRules(rules: readonly unknown[]): void {
    this.rules = validateRules(rules);
    this.streams.clear();
  }

  /** Add or replace the rule for one protocol/action pair. */
  setRule(rule: unknown): void {
    const [valid] = validateRules([rule]);
    this.rules = this.rules.filter((r) => r.protocol !== valid!.protocol || r.action !== valid!.action);
    this.rules.push(valid!);
    this.streams.clear();
  }

  /** Apply a `{ seed?, rules }` document as sent to `/_emulator/faults`. */
  configure(input: unknown): void {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new FaultConfigError('body', 'must be a JSON object like {"seed": 1, "rules": [...]}');
    }
    const doc = input as Record<string, unknown>;
    for (const k of Object.keys(doc)) {
      if (k !== 'seed' && k !== 'rules') throw new FaultConfigError(k, 'unknown field');
    }
    if (doc.seed !== undefined && (typeof doc.seed !== 'number' || !Number.isInteger(doc.seed))) {
      throw new FaultConfigError('seed', 'must be an integer');
    }
    const rules = validateRules(doc.rules ?? []);
    if (typeof doc.seed === 'number') this.seed = doc.seed;
    this.rules = rules;
    this.streams.clear();
  }

  clear(): void {
    this.rules = [];
    this.streams.clear();
  }

  reseed(seed: number): void {
    this.seed = seed;
    this.streams.clear();
  }

  settings(): FaultSettings {
    return { seed: this.seed, rules: this.rules.map((r) => ({ ...r })) };
  }

  private ruleFor(protocol: ProtocolName, action: string): FaultRule | undefined {
    let best: FaultRule | undefined;
    let bestScore = -1;
    for (const r of this.rules) {
      const protocolHit = r.protocol === protocol ? 2 : r.protocol === '*' ? 0 : -1;
      const actionHit = r.action === action ? 1 : r.action === '*' ? 0 : -1;
      if (protocolHit < 0 || actionHit < 0) continue;
      const score = protocolHit + actionHit;
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  private stream(key: string): Random {
    let random = this.streams.get(key);
    if (random === undefined) {
      random = mulberry32((this.seed ^ hashString(key)) >>> 0);
      this.streams.set(key, random);
    }
    return random;
  }
}
