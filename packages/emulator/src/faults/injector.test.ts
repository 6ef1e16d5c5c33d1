import { describe, expect, it } from 'vitest';
import { Faults } from './injector.js';
import { FaultConfigError, parseFaultFlag } from './rules.js';

const run = (f: Faults, n: number, action = 'SendMessage') =>
  Array.from({ length: n }, () => f.decide('cmq', action));

describe('Faults', () => {
  it('decides nothing without rules', () => {
    expect(new Faults().decide('cmq', 'SendMessage')).toEqual({ latencyMs: 0, kind: 'none' });
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const rules = [
      { protocol: 'cmq', action: '*', errorRate: 0.3, resetRate: 0.2, hangRate: 0.1, latencyJitterMs: 50 },
    ];
    const a = run(new Faults({ seed: 7, rules }), 200);
    expect(run(new Faults({ seed: 7, rules }), 200)).toEqual(a);
    expect(run(new Faults({ seed: 8, rules }), 200)).not.toEqual(a);
    const kinds = new Set(a.map((d) => d.kind));
    expect(kinds).toEqual(new Set(['none', 'error', 'reset', 'hang']));
    const errors = a.filter((d) => d.kind === 'error').length;
    expect(errors).toBeGreaterThan(30);
    expect(errors).toBeLessThan(90);
    expect(a.every((d) => d.latencyMs >= 0 && d.latencyMs <= 50)).toBe(true);
  });

  it('keeps one stream per action, so interleaving other actions does not change a sequence', () => {
    const rules = [{ protocol: 'cmq', action: '*', errorRate: 0.5 }];
    const alone = run(new Faults({ seed: 3, rules }), 50);
    const mixed = new Faults({ seed: 3, rules });
    const interleaved = Array.from({ length: 50 }, () => {
      mixed.decide('cmq', 'ReceiveMessage');
      return mixed.decide('cmq', 'SendMessage');
    });
    expect(interleaved).toEqual(alone);
  });

  it('picks the most specific rule', () => {
    const f = new Faults({
      rules: [
        { protocol: '*', action: '*', latencyMs: 1 },
        { protocol: 'cmq', action: '*', latencyMs: 2 },
        { protocol: 'cmq', action: 'SendMessage', latencyMs: 3 },
        { protocol: '*', action: 'DeleteMessage', latencyMs: 4 },
      ],
    });
    expect(f.decide('cmq', 'SendMessage').latencyMs).toBe(3);
    expect(f.decide('cmq', 'ReceiveMessage').latencyMs).toBe(2);
    expect(f.decide('cmq', 'DeleteMessage').latencyMs).toBe(2);
    expect(f.decide('api', 'DeleteMessage').latencyMs).toBe(4);
    expect(f.decide('api', 'Other').latencyMs).toBe(1);
  });

  it('adds spikes at spikeRate', () => {
    const f = new Faults({
      rules: [{ protocol: 'cmq', action: '*', latencyMs: 10, spikeRate: 1, spikeMs: 500 }],
    });
    expect(f.decide('cmq', 'x').latencyMs).toBe(510);
  });

  it('validates rules and names the bad field', () => {
    const f = new Faults();
    const bad = (rules: unknown[]) => {
      try {
        f.setRules(rules);
      } catch (error) {
        return (error as FaultConfigError).field;
      }
      return 'accepted';
    };
    expect(bad([{ protocol: 'cmq', errorRate: 2 }])).toBe('rules[0].errorRate');
    expect(bad([{ protocol: 'mqtt' }])).toBe('rules[0].protocol');
    expect(bad([{ protocol: 'cmq' }, { protocol: 'cmq', latencyMs: -1 }])).toBe('rules[1].latencyMs');
    expect(bad([{ protocol: 'cmq', errorRte: 0.1 }])).toBe('rules[0].errorRte');
    expect(bad([{ protocol: 'cmq', errorRate: 0.6, resetRate: 0.6 }])).toBe('rules[0].errorRate');
    expect(bad(['x'])).toBe('rules[0]');
    expect(() => f.configure({ seed: 1.5 })).toThrow(/seed/);
    expect(() => f.configure([])).toThrow(FaultConfigError);
  });

  it('parses --fault flags', () => {
    expect(parseFaultFlag('cmq:ReceiveMessage:errorRate=0.1,latencyMs=50')).toMatchObject({
      protocol: 'cmq',
      action: 'ReceiveMessage',
      errorRate: 0.1,
      latencyMs: 50,
      resetRate: 0,
    });
    expect(parseFaultFlag('api:*:')).toMatchObject({ protocol: 'api', action: '*' });
    expect(() => parseFaultFlag('cmq:Send')).not.toThrow();
    expect(() => parseFaultFlag('cmq:Send:errorRate=lots')).toThrow(/errorRate/);
    expect(() => parseFaultFlag('cmq:Send:resetRate=3')).toThrow(/resetRate/);
    expect(() => parseFaultFlag('nope')).toThrow(/protocol:action/);
  });

  it('setRule replaces the rule for the same pair; clear removes all', () => {
    const f = new Faults();
    f.setRule({ protocol: 'cmq', action: 'A', errorRate: 1 });
    f.setRule({ protocol: 'cmq', action: 'A', latencyMs: 5 });
    expect(f.settings().rules).toHaveLength(1);
    expect(f.decide('cmq', 'A')).toEqual({ kind: 'none', latencyMs: 5 });
    f.clear();
    expect(f.settings().rules).toEqual([]);
  });
});

describe('lost replies and stats', () => {
  it('rolls lostReply within its rate and counts every injected fault by protocol:action:kind', () => {
    const faults = new Faults({
      seed: 7,
      rules: [{ protocol: 'cmq', action: 'SendMessage', lostReplyRate: 0.3, errorRate: 0.1 }],
    });
    const kinds = Array.from({ length: 2_000 }, () => faults.decide('cmq', 'SendMessage').kind);
    const lost = kinds.filter((k) => k === 'lostReply').length;
    const errors = kinds.filter((k) => k === 'error').length;
    expect(lost).toBeGreaterThan(500);
    expect(lost).toBeLessThan(700);
    expect(faults.stats()).toEqual({ 'cmq:SendMessage:lostReply': lost, 'cmq:SendMessage:error': errors });
    faults.resetStats();
    expect(faults.stats()).toEqual({});
  });

  it('refuses rates that add up to more than 1, naming the field', () => {
    expect(() => new Faults({ rules: [{ protocol: 'cmq', errorRate: 0.6, lostReplyRate: 0.6 }] })).toThrow(
      /lostReplyRate must not exceed 1/,
    );
  });
});
