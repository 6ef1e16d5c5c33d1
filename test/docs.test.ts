import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documents, END, START, section } from '../scripts/capability-docs.js';

describe('docs', () => {
  it.each(documents)(
    '%s shows the capability table generated from the drivers (run `npm run docs`)',
    async (doc) => {
      const text = readFileSync(new URL(`../${doc}`, import.meta.url), 'utf8');
      const current = text.slice(text.indexOf(START), text.indexOf(END) + END.length);
      expect(current).toBe(await section());
    },
  );
});
