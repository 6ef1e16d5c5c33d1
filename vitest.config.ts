import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const include = ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'];
// Chaos tests disrupt shared services (they close every RabbitMQ connection, restart the broker),
// so they run in their own project after every other test, one file at a time.
const chaos = ['**/*.chaos.test.ts'];
// The conformance suites run in a group of their own after the main project, two files at a
// time. Each starves the machine on purpose under its poison scenario (a spinning core and a
// lagging event loop), as do the outbox relay race and the Pulsar-over-HTTP retry race, so they
// share the machine only with each other: every scenario must hold beside another file's
// starvation, as on any loaded machine. Everything else runs three files at a time in the main
// project: each file has its own vhost, queue and topic names and its own emulator, so files do
// not see each other's messages. Three on two cores, because most of these files wait (on brokers,
// timers, child processes) more than they compute: 13 integration files of 7-28 s took 115 s two at
// a time and 79 s three at a time, with the same 206 s of test time in both.
const conformance = [
  'test/conformance-*.test.ts',
  'test/rabbitmq-conformance.test.ts',
  'test/outbox-concurrency.test.ts',
  'test/pulsar-http-retry-race.test.ts',
];

// Each group runs to its end before the next starts, so a long file that starts last leaves the
// other worker idle: within a group the longest files start first. test/durations.json holds each
// file's seconds (by path: a file is in one project) from a full CI run (`node scripts/test-summary.mjs .vitest-report.json
// --durations test/durations.json` rewrites it); a file it does not list yet takes Vitest's own
// cached duration when this machine has one, else UNLISTED_S.
const durations: Record<string, number> = JSON.parse(
  readFileSync(new URL('./test/durations.json', import.meta.url), 'utf8'),
);
const UNLISTED_S = 10;

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification): number => {
      const path = relative(this.ctx.config.root, spec.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`)?.duration;
      return durations[path] ?? (cached === undefined ? UNLISTED_S : cached / 1000);
    };
    // Vitest's order (group, then project) first; Array.sort is stable, so only the time decides within.
    return (await super.sort(files)).sort(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        (a.project.name < b.project.name ? -1 : a.project.name > b.project.name ? 1 : 0) ||
        seconds(b) - seconds(a),
    );
  }
}

export default defineConfig({
  // Tests run the TypeScript sources of every workspace package directly: the `switchyard-source`
  // export condition points each package at src/ so no build is needed before `npm test`.
  // Vite's own server conditions minus `module`: Vitest passes these to Node for external packages,
  // and `module` makes Node pick bundler-only ESM builds it cannot load (@opentelemetry/api's).
  ssr: {
    resolve: { conditions: ['switchyard-source', ...defaultServerConditions.filter((c) => c !== 'module')] },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: Vitest's default (cores − 1) runs one file at a time.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-report.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include,
          exclude: [...chaos, ...conformance, '**/node_modules/**'],
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'conformance',
          include: conformance,
          exclude: ['**/node_modules/**'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: chaos,
          exclude: ['**/node_modules/**'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
