import { describe, expect, it } from 'vitest';
import { QueueOffsets } from './offsets.js';

describe('QueueOffsets', () => {
  it('commits only up to the lowest offset still in flight', () => {
    const o = new QueueOffsets(10);
    expect(o.committable()).toBe(10);
    o.pulled([10, 11, 12], 13);
    expect(o.committable()).toBe(10);
    o.done(11);
    o.done(12);
    expect(o.committable()).toBe(10);
    o.done(10);
    expect(o.committable()).toBe(13);
  });

  it('reports a commit only when the offset moved', () => {
    const o = new QueueOffsets(0);
    expect(o.takeCommit()).toBeUndefined();
    o.pulled([0, 1], 2);
    expect(o.takeCommit()).toBeUndefined();
    o.done(0);
    expect(o.takeCommit()).toBe(1);
    expect(o.takeCommit()).toBeUndefined();
    o.done(1);
    expect(o.takeCommit()).toBe(2);
  });

  it('follows a moved cursor and ignores settling twice', () => {
    const o = new QueueOffsets(5);
    o.moveTo(40);
    expect(o.nextPull).toBe(40);
    expect(o.committable()).toBe(40);
    o.pulled([40], 41);
    o.done(40);
    o.done(40);
    expect(o.inFlight).toBe(0);
    expect(o.committable()).toBe(41);
  });
});
