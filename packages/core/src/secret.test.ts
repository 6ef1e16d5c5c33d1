import { describe, expect, it } from 'vitest';
import { redact, Secret } from './secret.js';

describe('redact', () => {
  it('hides every live secret, raw and URL-encoded', () => {
    const secret = new Secret('p@ss/word-7');
    expect(redact('login p@ss/word-7 failed; url user:p%40ss%2Fword-7@h')).toBe(
      'login [redacted] failed; url user:[redacted]@h',
    );
    expect(secret.reveal()).toBe('p@ss/word-7');
  });

  it('hides a URL password even when it is not encoded (/ or @ in it)', () => {
    expect(redact('not a valid broker URL: "amqp://u:pa/ss@h:5672/v"')).toBe(
      'not a valid broker URL: "amqp://u:[redacted]@h:5672/v"',
    );
    expect(redact('amqp://u:pa@ss@h and http://x:y@z')).toBe(
      'amqp://u:[redacted]@h and http://x:[redacted]@z',
    );
  });

  it('forgets a secret once no Secret holds it, so redact() stays cheap', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const value = `short-lived-${Math.random()}`;
    // A scope of its own, so nothing keeps the Secret alive.
    (() => {
      new Secret(value);
    })();
    expect(redact(value)).toBe('[redacted]');
    if (gc === undefined) {
      // Without --expose-gc the collector decides when; make plenty of garbage and wait.
      for (let round = 0; round < 50 && redact(value) !== value; round++) {
        for (let i = 0; i < 2_000; i++) new Secret(`garbage-${round}-${i}`);
        const junk = Array.from({ length: 200_000 }, (_, i) => ({ i }));
        junk.length = 0;
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      gc();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(redact(value)).toBe(value);
  });
});
