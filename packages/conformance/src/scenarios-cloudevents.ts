// CloudEvents on every flavour: an event sent in the flavour's default mode (binary where headers
// are native, structured elsewhere) and in structured mode comes back whole, and binary mode puts
// the attributes in headers under the flavour's binding prefix where a plain client sees them.
// (The official SDK reads these messages in packages/core/src/cloudevents.test.ts and
// test/cloudevents-rabbitmq.test.ts.)

import { cloudEvents } from '@switchyard/core';
import { expect, it } from 'vitest';
import { collect, type SuiteContext } from './context.js';

const event = {
  id: 'evt-1',
  source: '/switchyard/conformance',
  type: 'com.example.conformance.checked',
  subject: 'case/1',
  time: '2026-12-06T06:00:00.000Z',
  traceid: 'abc123',
  data: { ok: true, n: 7 },
};

export function cloudEventScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;

  for (const mode of [undefined, 'structured'] as const) {
    it(`a CloudEvent in ${mode ?? 'the default'} mode comes back whole`, async () => {
      const dest = await ctx.destination();
      const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
      const producer = await ctx.broker.producer(dest);
      const codec = cloudEvents(ctx.broker, mode === undefined ? {} : { mode });
      expect(codec.mode).toBe(mode ?? (caps.headers === 'native' ? 'binary' : 'structured'));
      await producer.send(codec.toMessage(event));
      const [m] = await collect(consumer, 1, ctx.ms(10_000));
      expect(codec.fromMessage(m!)).toEqual({
        specversion: '1.0',
        datacontenttype: 'application/json',
        ...event,
      });
      if (codec.mode === 'binary') {
        expect(m!.headers[`${codec.prefix}id`]).toBe('evt-1');
        expect(m!.headers[`${codec.prefix}traceid`]).toBe('abc123');
        expect(m!.contentType).toBe('application/json');
        expect(m!.json()).toEqual(event.data);
      } else {
        expect(JSON.parse(m!.text())).toMatchObject({ specversion: '1.0', id: 'evt-1', data: event.data });
      }
      // A consumer left open keeps polling until the suite ends, loading the scenarios after it.
      await consumer.close();
    });
  }
}
