import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const include = ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'];
// Chaos tests disrupt shared services (they close every RabbitMQ connection, restart the broker),
// so they run in their own project after every other test, one file at a time.
const chaos = ['**/*.chaos.test.ts'];

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
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-report.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include,
          exclude: [...chaos, '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: chaos,
          exclude: ['**/node_modules/**'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
