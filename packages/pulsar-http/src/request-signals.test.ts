import { describe, expect, it } from 'vitest';
import { RequestSignals, SDK_TAKES_REQUEST_SIGNALS } from './request-signals.js';

describe('RequestSignals', () => {
  it("is used with the installed SDK: its fetch is node-fetch 2, which takes a request's own signal", () => {
    expect(SDK_TAKES_REQUEST_SIGNALS).toBe(true);
  });

  it('aborts each open request with the shared reason, and no longer one that settled', () => {
    const signals = new RequestSignals();
    const shared = new AbortController();
    const a = signals.open(shared.signal);
    const b = signals.open(shared.signal);
    expect(signals.inFlight(shared.signal)).toBe(2);
    signals.close(shared.signal, b);
    expect(signals.inFlight(shared.signal)).toBe(1);
    const reason = new Error('deadline');
    shared.abort(reason);
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe(reason);
    expect(b.aborted).toBe(false);
    expect(signals.inFlight(shared.signal)).toBe(0);
  });

  it('answers an already aborted signal with an aborted one', () => {
    const signals = new RequestSignals();
    const reason = new Error('closed');
    const own = signals.open(AbortSignal.abort(reason));
    expect(own.aborted).toBe(true);
    expect(own.reason).toBe(reason);
  });
});
