// pulsar-client is an optional peer dependency: it is a native addon over the Pulsar C++ client,
// and many machines cannot install it. It is loaded here, once, the first time a broker connects
// (never when this package is imported, so `connect('amqp://…')` users, the docs generator and
// bundlers never touch it). A missing or unloadable addon becomes a CONFIG error that says what
// to install and how.

import { createRequire } from 'node:module';
import { ConfigError } from '@switchyard/core/driver';
import { DRIVER } from './errors.js';
import type { PulsarModule } from './native-api.js';

export const PULSAR_CLIENT_PACKAGE = 'pulsar-client';
export const CPP_SETUP_URL = 'https://pulsar.apache.org/docs/client-libraries-cpp-setup/';

/** Loads pulsar-client; the injectable seam for tests and for bundlers that import it themselves. */
export type PulsarLoader = () => PulsarModule;

const require = createRequire(import.meta.url);

export const loadPulsarClient: PulsarLoader = () => require(PULSAR_CLIENT_PACKAGE) as PulsarModule;

/** Runs a loader, turning "not installed" and "installed but the addon will not load" into CONFIG. */
export function resolvePulsarModule(load: PulsarLoader): PulsarModule {
  let loaded: PulsarModule;
  try {
    loaded = load();
  } catch (cause) {
    throw isPackageMissing(cause) ? missingPackageError(cause) : brokenAddonError(cause);
  }
  if (typeof loaded?.Client !== 'function' || typeof loaded.AuthenticationToken !== 'function') {
    throw new ConfigError(
      `${PULSAR_CLIENT_PACKAGE} loaded but does not export Client and AuthenticationToken; @switchyard/pulsar needs ${PULSAR_CLIENT_PACKAGE} >=1.14.0 <2`,
      { driver: DRIVER, details: { package: PULSAR_CLIENT_PACKAGE } },
    );
  }
  return loaded;
}

export function missingPackageError(cause?: unknown): ConfigError {
  return new ConfigError(
    `the pulsar driver needs the package ${PULSAR_CLIENT_PACKAGE} (an optional peer dependency of @switchyard/pulsar); ` +
      `install it with: npm install ${PULSAR_CLIENT_PACKAGE}. It is a native addon over the Pulsar C++ client ` +
      `library (libpulsar): npm fetches a prebuilt binary where one exists for your platform, otherwise it ` +
      `builds from source and needs libpulsar and its headers installed first (${CPP_SETUP_URL}; ` +
      'see packages/pulsar/README.md, "Installing pulsar-client")',
    {
      driver: DRIVER,
      retryable: false,
      ...(cause === undefined ? {} : { cause }),
      details: { package: PULSAR_CLIENT_PACKAGE, install: `npm install ${PULSAR_CLIENT_PACKAGE}` },
    },
  );
}

function brokenAddonError(cause: unknown): ConfigError {
  // The first line only: Node appends the whole require stack to a module-not-found message.
  const text = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
  return new ConfigError(
    `${PULSAR_CLIENT_PACKAGE} is installed but its native addon did not load (${text}); reinstall it with ` +
      `npm install ${PULSAR_CLIENT_PACKAGE} on this platform, or install the Pulsar C++ client library ` +
      `(libpulsar, ${CPP_SETUP_URL}) and rebuild with npm rebuild ${PULSAR_CLIENT_PACKAGE}`,
    { driver: DRIVER, retryable: false, cause, details: { package: PULSAR_CLIENT_PACKAGE } },
  );
}

/** True when pulsar-client itself is not installed (not when one of its own files is missing). */
function isPackageMissing(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    new RegExp(`Cannot find (module|package) '${PULSAR_CLIENT_PACKAGE}'`).test(message)
  );
}
