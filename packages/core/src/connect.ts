import type { z } from 'zod';
import { defaultRetryPolicy } from './backoff.js';
import { Broker } from './broker.js';
import { parseWithSchema, portableBrokerSchema } from './config.js';
import type { DriverModule } from './driver.js';
import type { DriverConfig } from './driver-configs.js';
import { ConfigError, toSwitchyardError } from './errors.js';
import { silentLogger } from './logger.js';
import { driverForScheme, knownDrivers, loadDriver } from './registry.js';
import { redact } from './secret.js';
import { StatusEmitter } from './status.js';
import { redactingLogger } from './telemetry/logging.js';
import { createTelemetry } from './telemetry/telemetry.js';

/** A config object: `driver` picks the driver, the other fields are the driver's and the portable ones. */
export interface BrokerConfig {
  driver: string;
  [field: string]: unknown;
}

/**
 * The portable options a URL cannot carry (a logger, a retry policy, telemetry). They also apply
 * to a config object, where they win over the object's own fields of the same name.
 */
export type ConnectOptions = z.input<typeof portableBrokerSchema>;

/**
 * Connects to a broker. A URL's scheme picks the driver (`memory://`, `amqp://`, `cmq+https://`,
 * `rocketmq://`, `pulsar-http+https://`, `pulsar://`); a config object names it in `driver`. With
 * no argument, `SWITCHYARD_URL` is used, and `memory://` when that is unset.
 */
export async function connect<D extends string>(
  target?: string | URL | DriverConfig<D>,
  options?: ConnectOptions,
): Promise<Broker> {
  const given = parseWithSchema(portableBrokerSchema, options ?? {}, 'connect options');
  const {
    module,
    config,
    portable: own,
  } = await resolve(
    (target as string | URL | BrokerConfig | undefined) ?? process.env.SWITCHYARD_URL ?? 'memory://',
  );
  const portable = {
    logger: given.logger ?? own.logger,
    retry: given.retry ?? own.retry,
    telemetry: given.telemetry ?? own.telemetry,
  };
  const status = new StatusEmitter();
  const logger = redactingLogger(portable.logger ?? silentLogger);
  const retry = { ...defaultRetryPolicy, ...portable.retry };
  const telemetry = await createTelemetry(portable.telemetry, module.name);
  const driver = await module
    .create(config, { logger, status: (event) => status.emit(event) })
    .catch((error: unknown) => {
      throw toSwitchyardError(error, module.name);
    });
  return new Broker({ driver, logger, retry, status, telemetry });
}

async function resolve(target: string | URL | BrokerConfig) {
  if (typeof target === 'string' || target instanceof URL) {
    const url = parseUrl(target);
    const name = driverForScheme(url.protocol);
    if (name === undefined) {
      throw new ConfigError(
        `no driver for URL scheme "${url.protocol}"; use one of memory://, amqp(s)://, cmq+http(s)://, rocketmq://, pulsar-http+http(s)://, pulsar(+ssl)://`,
        { details: { scheme: url.protocol } },
      );
    }
    const module = await loadDriver(name);
    return { module, config: module.fromUrl(url), portable: {} as PortableOptions };
  }
  if (typeof target !== 'object' || target === null) {
    throw new ConfigError('connect() takes a URL string or a config object with a "driver" field');
  }
  if (typeof target.driver !== 'string') {
    throw new ConfigError(`config.driver is required: one of ${knownDrivers().join(', ')}`, {
      details: { fields: ['config.driver'] },
    });
  }
  const module: DriverModule = await loadDriver(target.driver);
  const { logger, retry, telemetry, driver: _driver, ...rest } = target;
  const portable = parseWithSchema(portableBrokerSchema, { logger, retry, telemetry }, 'config');
  return { module, config: module.parseConfig({ ...rest }), portable };
}

type PortableOptions = ReturnType<typeof portableBrokerSchema.parse>;

function parseUrl(target: string | URL): URL {
  if (target instanceof URL) return target;
  try {
    return new URL(target);
  } catch (cause) {
    throw new ConfigError(
      `not a valid broker URL: "${redact(target)}"; expected e.g. memory:// or amqp://host:5672/vhost (credentials as user:password@ before the host)`,
      {
        cause,
      },
    );
  }
}
