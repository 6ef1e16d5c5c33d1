import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { loadOutbox } from './relay.js';

/** What Node throws for a package that is not installed. */
function notFound(pkg: string): Error {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/cli.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('relay: optional packages', () => {
  it('loads @switchyard/outbox and pg when installed', async () => {
    const { outbox, pg } = await loadOutbox();
    expect(typeof outbox.startRelay).toBe('function');
    expect(typeof pg.Pool).toBe('function');
  });

  it.each(['@switchyard/outbox', 'pg'])(
    '%s missing: a CONFIG error (exit 2) that says what to install',
    async (missing) => {
      const error = await loadOutbox(async (pkg) => {
        if (pkg === missing) throw notFound(pkg);
        return import(pkg);
      }).catch((e: unknown) => e);
      expect(exitCodeFor(error)).toBe(ExitCode.CONFIG);
      expect((error as Error).message).toContain(`needs the package ${missing}`);
      expect((error as Error).message).toContain('npm install @switchyard/outbox pg');
    },
  );

  it('any other import failure is not disguised as a missing package', async () => {
    const broken = new SyntaxError('Unexpected token');
    const error = await loadOutbox(async () => {
      throw broken;
    }).catch((e: unknown) => e);
    expect(error).toBe(broken);
  });
});
