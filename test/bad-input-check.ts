// One bad-input case's check, shared by test/bad-input.test.ts and the per-transport files: the
// case must fail with a typed SwitchyardError of the expected code whose message says what is
// wrong, and no sentinel may show in the error, its causes, stack, util.inspect or JSON.

import { inspect } from 'node:util';
import type { LeakCapture } from '@switchyard/conformance';
import { isSwitchyardError } from '@switchyard/core';
import { expect } from 'vitest';

export interface BadInputCase {
  readonly name: string;
  readonly run: () => Promise<unknown>;
  readonly code: string;
  /** What the message must say: the problem and, where there is one, the fix. */
  readonly says: RegExp;
}

export async function checkBadInput(c: BadInputCase, leaks: LeakCapture): Promise<void> {
  const error = await c.run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'it must fail').toBeDefined();
  expect(isSwitchyardError(error), `typed error, got ${String(error)}`).toBe(true);
  leaks.error(error, 'case error');
  const e = error as Error & { code: string };
  expect(e.code).toBe(c.code);
  expect(e.message).toMatch(c.says);
  // Here too, so a leak fails its own case (the file's check at the end lists every channel).
  const rendered: string[] = [];
  for (let x: unknown = e; x instanceof Error; x = x.cause) {
    rendered.push(x.message, String(x), x.stack ?? '', inspect(x, { depth: Infinity }));
    try {
      rendered.push(JSON.stringify(x));
    } catch {
      // a native cause that does not serialise prints nothing
    }
  }
  const hit = leaks.sentinel.find(rendered.join('\n'));
  expect(
    hit && `${hit.form.form}: ${leaks.sentinel.mask(rendered.join('\n')).slice(0, 2_000)}`,
  ).toBeUndefined();
}
