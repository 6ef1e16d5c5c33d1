// Fuzz of the bindings config file parser (issue 9): YAML or JSON text — well-formed configs,
// mutated ones and garbage — read through loadConfigFile from a real file. Every outcome is a
// LoadedConfig or a SwitchyardError with code CONFIG and a message; never another exception, never
// a hang; a secret given inline or through ${env:...} never shows in the error. 10,000 runs with a
// fixed seed; SWITCHYARD_FUZZ_RUNS / SWITCHYARD_FUZZ_SEED locally.

import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { isSwitchyardError } from '../errors.js';
import { loadConfigFile } from './config-file.js';

const RUNS = Math.max(10_000, Number(process.env.SWITCHYARD_FUZZ_RUNS) || 0);
const fuzz = (seed: number) => ({ numRuns: RUNS, seed: Number(process.env.SWITCHYARD_FUZZ_SEED) || seed });
const TIMEOUT = (90_000 * RUNS) / 10_000;

const MARK = 'Qv7SECRETpw';
/** `${env:NAME}` (built, so the text is not mistaken for a template literal). */
const ref = (name: string) => `$${'{'}env:${name}}`;
/** A fixed secret pool: every distinct secret stays in core's Secret registry (see the driver fuzz files). */
const SECRETS = [`${MARK}`, `${MARK}:/@?#%`, `${MARK} x`, `${MARK}é`, `${MARK}%ZZ`, `${MARK}}`];
const ENV = { SECRET: SECRETS[1], EMPTY: '', ID: 'AKIDx' };

let dir: string;
beforeAll(async () => {
  // A RAM disk when there is one: the property writes 10,000 small files.
  dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'switchyard-config-fuzz-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const name = fc.oneof(
  fc.constantFrom('old', 'new', 'orders', '', 'x'.repeat(513)),
  fc.string({ maxLength: 6 }),
);
const secret = fc.constantFrom(
  ...SECRETS,
  ref('SECRET'),
  ref('MISSING'),
  ref('MISSING:-fallback'),
  ref('EMPTY'),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 100_000 }),
  fc.boolean(),
  fc.constant(null),
);
const broker = fc.oneof(
  fc.record(
    {
      url: fc.oneof(
        fc.constantFrom('memory://', 'amqp://127.0.0.1', 'cmq+http://127.0.0.1:1?region=ap-guangzhou', ''),
        secret.map((s) => `amqp://guest:${s}@127.0.0.1:5672`),
        fc.string({ maxLength: 20 }),
      ),
      description: fc.string({ maxLength: 8 }),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      driver: fc.constantFrom('memory', 'cmq', 'rocketmq', 'nope', ''),
      region: fc.constantFrom('ap-guangzhou', 'x'),
      secretId: fc.constantFrom(ref('ID'), 'AKIDy'),
      secretKey: secret,
      password: secret,
      token: secret,
      extra: scalar,
    },
    { requiredKeys: [] },
  ),
  scalar,
);
const binding = fc.oneof(
  fc.record(
    {
      broker: name,
      destination: name,
      source: name,
      group: name,
      description: fc.string({ maxLength: 6 }),
      producer: fc.record({ maxBatchSize: scalar, maxInFlight: scalar }, { requiredKeys: [] }),
      consumer: fc.record(
        {
          prefetch: scalar,
          maxDeliveries: scalar,
          deadLetter: name,
          visibilityTimeoutMs: scalar,
          startFrom: scalar,
        },
        { requiredKeys: [] },
      ),
      write: fc.record({ brokers: fc.array(name, { maxLength: 3 }) }, { requiredKeys: [] }),
      read: fc.record({ brokers: fc.array(name, { maxLength: 3 }) }, { requiredKeys: [] }),
      bogus: scalar,
    },
    { requiredKeys: [] },
  ),
  scalar,
);
const document = fc.oneof(
  fc.record(
    {
      brokers: fc.oneof(fc.dictionary(name, broker, { maxKeys: 3 }), scalar),
      bindings: fc.oneof(fc.dictionary(name, binding, { maxKeys: 3 }), scalar),
      version: scalar,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

const text = fc.oneof(
  {
    arbitrary: fc.tuple(
      fc.constant('yaml'),
      document.map((d) => toYaml(d)),
    ),
    weight: 4,
  },
  {
    arbitrary: fc.tuple(
      fc.constant('json'),
      document.map((d) => JSON.stringify(d) ?? ''),
    ),
    weight: 3,
  },
  // Truncated or corrupted documents, and plain garbage.
  {
    arbitrary: fc.tuple(
      fc.constantFrom('yaml', 'json'),
      fc.tuple(document, fc.nat(), fc.string({ maxLength: 6 })).map(([d, cut, junk]) => {
        const t = toYaml(d);
        const at = cut % (t.length + 1);
        return t.slice(0, at) + junk + t.slice(at);
      }),
    ),
    weight: 2,
  },
  {
    arbitrary: fc.tuple(
      fc.constantFrom('yaml', 'json'),
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.constantFrom('&a [*a]', '- - -', '{', ': :', '!!binary x', '%YAML 9'),
      ),
    ),
    weight: 1,
  },
);

describe('bindings config file (fuzz)', () => {
  it(
    'YAML/JSON text: a LoadedConfig or a CONFIG error, never a leak or a hang',
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(text, async ([kind, body]) => {
          const path = join(dir, `c${n++ % 8}.${kind}`);
          writeFileSync(path, body);
          const started = performance.now();
          try {
            const loaded = await loadConfigFile({ path, env: ENV });
            expect(typeof loaded.config).toBe('object');
            expect(Array.isArray(loaded.warnings)).toBe(true);
          } catch (error) {
            if (!isSwitchyardError(error)) throw new Error(`not a SwitchyardError: ${String(error)}`);
            expect(error.code).toBe('CONFIG');
            expect(error.message.length).toBeGreaterThan(0);
            for (const t of [error.message, String(error), JSON.stringify(error)]) {
              if (t.includes(MARK)) throw new Error(`a secret leaked into the error: ${t}`);
            }
          }
          expect(performance.now() - started).toBeLessThan(1000);
        }),
        fuzz(20261203),
      );
    },
    TIMEOUT,
  );

  it('a self-referencing YAML alias is a CONFIG error', async () => {
    const path = join(dir, 'cyclic.yaml');
    await writeFile(path, 'brokers: &a\n  x: *a\n');
    await expect(loadConfigFile({ path, env: {} })).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
