// The parameter schemas must match the SDK's own request types (tdmq_models.d.ts) field by field:
// same names, same required/optional split, same types. A field the SDK can send but the emulator
// does not know would be rejected as UnknownParameter, so drift here breaks real clients.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cmqActions } from './actions-cmq.js';
import { pulsarActions } from './actions-pulsar.js';
import { type Schema, STRUCTS } from './params.js';

const require = createRequire(import.meta.url);
const modelsPath = join(
  dirname(require.resolve('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js')),
  'tdmq_models.d.ts',
);
const source = readFileSync(modelsPath, 'utf8');

/** interface name → field → `Type` or `Type!` in the schema notation. */
function sdkInterfaces(): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const m of source.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
    const fields: Record<string, string> = {};
    // Doc comments precede each field; strip them so only `Name?: type;` lines remain.
    const body = (m[2] ?? '').replace(/\/\*\*[\s\S]*?\*\//g, '');
    for (const f of body.matchAll(/^\s+(\w+)(\??):\s*([^;]+);/gm)) {
      const ts = (f[3] ?? '').trim();
      const arr = /^Array<(\w+)>$/.exec(ts);
      const base = (t: string) =>
        t === 'string' ? 'String' : t === 'number' ? 'Integer' : t === 'boolean' ? 'Boolean' : t;
      const type = arr ? `${base(arr[1] ?? '')}[]` : base(ts);
      fields[f[1] ?? ''] = f[2] === '?' ? type : `${type}!`;
    }
    out.set(m[1] ?? '', fields);
  }
  return out;
}

const sdk = sdkInterfaces();
const actions = { ...pulsarActions, ...cmqActions };

describe('action schemas match tdmq_models.d.ts', () => {
  it('the d.ts reader itself works', () => {
    expect(sdk.get('SendMessagesRequest')).toEqual({
      Topic: 'String!',
      Payload: 'String!',
      StringToken: 'String',
      ProducerName: 'String',
      SendTimeout: 'Integer',
      MaxPendingMessages: 'Integer',
    });
    expect(sdk.get('DeleteTopicsRequest')?.TopicSets).toBe('TopicRecord[]!');
  });

  it.each(Object.keys(actions))('%sRequest', (name) => {
    const expected = sdk.get(`${name}Request`);
    expect(expected, `${name}Request exists in the SDK`).toBeDefined();
    expect(actions[name]?.schema as Schema).toEqual(expected);
  });

  it.each(Object.keys(STRUCTS))('struct %s', (name) => {
    expect(STRUCTS[name]).toEqual(sdk.get(name));
  });
});
