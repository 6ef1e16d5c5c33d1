import type { Clock } from '../src/contracts.js';

/**
 * A clock tests move by hand, so visibility timeouts, retention and signature windows pass exactly
 * when a test says. It starts at the wall clock by default because servers built on it check the
 * timestamps real clients sign.
 */
export class ManualClock implements Clock {
  constructor(public t: number = Date.now()) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
