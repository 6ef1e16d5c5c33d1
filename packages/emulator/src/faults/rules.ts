// Fault rules: what may go wrong, per protocol and action (`*` matches any). Validation names
// the bad field so an admin PUT or a CLI flag fails with a message a person can act on.

import type { ProtocolName } from '../contracts.js';

export interface FaultRule {
  readonly protocol: ProtocolName | '*';
  readonly action: string;
  /** Probability of replying with the protocol's transient error. */
  readonly errorRate: number;
  /** Probability of destroying the socket without a reply. */
  readonly resetRate: number;
  /** Probability of never replying (until the client leaves or the server stops). */
  readonly hangRate: number;
  /** Probability of serving the request and then dropping the reply (effects happen, the client never hears). */
  readonly lostReplyRate: number;
  /** Fixed extra latency. */
  readonly latencyMs: number;
  /** Uniform random extra latency in [0, latencyJitterMs). */
  readonly latencyJitterMs: number;
  /** Probability of adding spikeMs on top. */
  readonly spikeRate: number;
  readonly spikeMs: number;
}

export type FaultRuleInput = Partial<FaultRule> & Pick<FaultRule, 'protocol'>;

export class FaultConfigError extends Error {
  override readonly name = 'FaultConfigError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

const PROTOCOLS = new Set(['cmq', 'api', 'rocketmq', '*']);
const RATES = ['errorRate', 'resetRate', 'hangRate', 'lostReplyRate', 'spikeRate'] as const;
const DURATIONS = ['latencyMs', 'latencyJitterMs', 'spikeMs'] as const;
const KNOWN = new Set(['protocol', 'action', ...RATES, ...DURATIONS]);
const MAX_DELAY_MS = 600_000;

export function validateRule(input: unknown, path = 'rule'): FaultRule {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FaultConfigError(path, 'must be an object');
  }
  const r = input as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!KNOWN.has(k)) throw new FaultConfigError(`${path}.${k}`, 'unknown field');
  }
  if (typeof r.protocol !== 'string' || !PROTOCOLS.has(r.protocol)) {
    throw new FaultConfigError(`${path}.protocol`, "must be one of 'cmq', 'api', 'rocketmq', '*'");
  }
  const action = r.action ?? '*';
  if (typeof action !== 'string' || action.length === 0 || action.length > 100) {
    throw new FaultConfigError(`${path}.action`, "must be an action name or '*'");
  }
  const out: Record<string, unknown> = { protocol: r.protocol, action };
  for (const k of RATES) {
    const v = r[k] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new FaultConfigError(`${path}.${k}`, 'must be a number between 0 and 1');
    }
    out[k] = v;
  }
  for (const k of DURATIONS) {
    const v = r[k] ?? (k === 'spikeMs' ? 1000 : 0);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_DELAY_MS) {
      throw new FaultConfigError(
        `${path}.${k}`,
        `must be a number of milliseconds between 0 and ${MAX_DELAY_MS}`,
      );
    }
    out[k] = v;
  }
  const rule = out as unknown as FaultRule;
  if (rule.errorRate + rule.resetRate + rule.hangRate + rule.lostReplyRate > 1) {
    throw new FaultConfigError(
      `${path}.errorRate`,
      'errorRate + resetRate + hangRate + lostReplyRate must not exceed 1',
    );
  }
  return rule;
}

export function validateRules(input: unknown, path = 'rules'): FaultRule[] {
  if (!Array.isArray(input)) throw new FaultConfigError(path, 'must be an array');
  return input.map((r, i) => validateRule(r, `${path}[${i}]`));
}

/** `cmq:ReceiveMessage:errorRate=0.1,latencyMs=50` (action may be `*`; settings may be empty). */
export function parseFaultFlag(spec: string): FaultRule {
  const [protocol, action, settings, ...rest] = spec.split(':');
  if (protocol === undefined || action === undefined || rest.length > 0) {
    throw new FaultConfigError('--fault', `expected protocol:action:key=value,... but got '${spec}'`);
  }
  const rule: Record<string, unknown> = { protocol, action };
  for (const pair of (settings ?? '').split(',').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const text = eq < 0 ? '' : pair.slice(eq + 1);
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) {
      throw new FaultConfigError(`--fault ${name}`, `'${text}' is not a number`);
    }
    rule[name] = value;
  }
  return validateRule(rule, '--fault');
}
