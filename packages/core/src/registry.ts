import type { DriverModule } from './driver.js';
import { ConfigError } from './errors.js';
import { memoryDriver } from './memory/driver.js';

// Driver packages load lazily, so a service that uses only CMQ never loads amqplib, and a missing
// package produces an error that says which one to install. Bundlers cannot follow that lazy
// import, so a bundled service registers its drivers itself with registerDriver().

const packages: Readonly<Record<string, string>> = Object.freeze({
  rabbitmq: '@switchyard/rabbitmq',
  cmq: '@switchyard/cmq',
  rocketmq: '@switchyard/rocketmq',
  'pulsar-http': '@switchyard/pulsar-http',
  pulsar: '@switchyard/pulsar',
  mqtt: '@switchyard/mqtt',
});

const schemeToDriver: Readonly<Record<string, string>> = Object.freeze({
  memory: 'memory',
  amqp: 'rabbitmq',
  amqps: 'rabbitmq',
  'cmq+http': 'cmq',
  'cmq+https': 'cmq',
  rocketmq: 'rocketmq',
  'rocketmq+tls': 'rocketmq',
  'rocketmq+remoting': 'rocketmq',
  'pulsar-http+http': 'pulsar-http',
  'pulsar-http+https': 'pulsar-http',
  pulsar: 'pulsar',
  'pulsar+ssl': 'pulsar',
  mqtt: 'mqtt',
  mqtts: 'mqtt',
  ws: 'mqtt',
  wss: 'mqtt',
  'mqtt+ws': 'mqtt',
  'mqtt+wss': 'mqtt',
});

const registered = new Map<string, DriverModule>([['memory', memoryDriver as DriverModule]]);

/**
 * Registers a driver explicitly: a custom driver, or a driver package in a bundled service, where
 * the bundler follows `import { driver } from '@switchyard/cmq'` but not the import by URL scheme.
 * connect() then uses it for that driver's URL schemes and `driver` name without importing anything.
 */
export function registerDriver(module: DriverModule): void {
  registered.set(module.name, module);
}

export function knownDrivers(): string[] {
  return [...new Set(['memory', ...Object.keys(packages), ...registered.keys()])];
}

export function driverForScheme(scheme: string): string | undefined {
  const name = scheme.replace(/:$/, '').toLowerCase();
  if (name in schemeToDriver) return schemeToDriver[name];
  for (const module of registered.values()) if (module.schemes.includes(name)) return module.name;
  return undefined;
}

/** How a driver package is imported; tests swap it to see a package that is not installed. */
type Importer = (pkg: string) => Promise<unknown>;

export async function loadDriver(
  name: string,
  importer: Importer = (pkg) => import(pkg),
): Promise<DriverModule> {
  const module = registered.get(name);
  if (module !== undefined) return module;
  const pkg = packages[name];
  if (pkg === undefined) {
    throw new ConfigError(`unknown driver "${name}"; known drivers: ${knownDrivers().join(', ')}`, {
      details: { driver: name },
    });
  }
  let loaded: { driver?: DriverModule };
  try {
    loaded = (await importer(pkg)) as { driver?: DriverModule };
  } catch (cause) {
    if (isModuleNotFound(cause, pkg)) {
      // Two causes look the same from here: the package is not installed, or a bundler left this
      // run-time import(pkg) unresolved because it cannot know which driver a URL will pick.
      throw new ConfigError(
        `the ${name} driver needs the package ${pkg}, which could not be imported from here; ` +
          `if it is not installed, install it with: npm install ${pkg}. If it is installed and this ` +
          'code is bundled (esbuild, webpack, Rollup), the bundler cannot follow a driver picked by ' +
          `URL at run time: add import { driver } from '${pkg}' and registerDriver(driver) ` +
          `(from @switchyard/core) before connect()`,
        {
          cause,
          details: { driver: name, package: pkg },
        },
      );
    }
    throw cause;
  }
  if (loaded.driver === undefined) throw new ConfigError(`${pkg} does not export a Switchyard driver`);
  registered.set(name, loaded.driver);
  return loaded.driver;
}

function isModuleNotFound(error: unknown, pkg: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    (e.code === 'ERR_MODULE_NOT_FOUND' ||
      e.code === 'MODULE_NOT_FOUND' ||
      /Cannot find (module|package)/.test(e.message ?? '')) &&
    (e.message ?? '').includes(pkg)
  );
}
