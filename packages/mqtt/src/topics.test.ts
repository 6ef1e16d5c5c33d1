import { describe, expect, it } from 'vitest';
import { checkGroup, checkTopic, routingKeyOf, topicFilters, topicFor } from './topics.js';

describe('topics', () => {
  it('routing keys are topic levels below the destination, both ways', () => {
    expect(topicFor('orders', 'eu.paris')).toBe('orders/eu/paris');
    expect(topicFor('orders', undefined)).toBe('orders');
    expect(routingKeyOf('orders', 'orders/eu/paris')).toBe('eu.paris');
    expect(routingKeyOf('orders', 'orders')).toBeUndefined();
    expect(routingKeyOf('orders', 'orders2/eu')).toBeUndefined();
    expect(routingKeyOf('orders', 'order')).toBeUndefined();
    expect(routingKeyOf('orders', 'orders/')).toBe('');
  });

  it('filters: * is +, a trailing # is #, none is everything below', () => {
    expect(topicFilters('orders', ['eu.*', 'us.#'])).toEqual(['orders/eu/+', 'orders/us/#']);
    expect(topicFilters('orders', [])).toEqual(['orders/#']);
    expect(() => topicFilters('orders', ['a.#.b'])).toThrow(/"#" only as the last word/);
    expect(() => topicFilters('orders', ['a/b'])).toThrow(/filter.routingKeys/);
  });

  it('refuses wildcards, $ topics, NUL and bad share names', () => {
    expect(() => checkTopic('a/+/b', 'destination')).toThrow(/must not contain/);
    expect(() => checkTopic('$share/g/t', 'destination')).toThrow(/reserved/);
    expect(() => checkTopic('a\0b', 'destination')).toThrow(/must not contain/);
    expect(() => checkTopic('', 'destination')).toThrow(/empty/);
    expect(() => checkGroup('a/b')).toThrow(/shared-subscription name/);
    expect(() => topicFor('orders', 'a/b')).toThrow(/routingKey/);
    expect(() => checkTopic('devices/42/telemetry', 'destination')).not.toThrow();
  });
});
