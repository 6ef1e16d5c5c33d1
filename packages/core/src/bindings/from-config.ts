// fromConfig(): services ask for producers and consumers by binding name; the config file decides
// which broker (or two, during a migration) stands behind each one. Brokers connect lazily, once,
// on first use, and are shared by every binding that names them.

import type { Broker } from '../broker.js';
import type { ConsumerOptions, ProducerOptions } from '../config.js';
import { type BrokerConfig, connect } from '../connect.js';
import type { Consumer } from '../consumer.js';
import { ConfigError, SwitchyardError, toSwitchyardError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type LoadConfigOptions, type LoadedConfig, loadConfigFile, validateConfig } from './config-file.js';
import { type BindingConsumer, DualReadConsumer } from './dual-read.js';
import { type BindingProducer, type DualWriteOptions, DualWriteProducer } from './dual-write.js';
import type { BindingEntry, BrokerRef, SwitchyardConfigInput } from './schema.js';

export interface FromConfigOptions extends LoadConfigOptions {
  /** A config object instead of a file (validated the same way). */
  config?: SwitchyardConfigInput | Record<string, unknown>;
  /** Given to every broker, and told about inline secrets and dual-write secondary failures. */
  logger?: Logger;
  /** Called with each warning (inline secrets); default: process.emitWarning. */
  onWarning?: (warning: string) => void;
  /** 'primary'-mode dual-write: a secondary send failed (see dual-write.ts). */
  onSecondaryError?: DualWriteOptions['onSecondaryError'];
}

/** One side of a binding, resolved: which broker, and the names on that broker. */
export interface BindingSide {
  readonly broker: string;
  readonly destination: string;
  readonly source: string;
  readonly group: string;
}

/** A binding as the config file resolves it. */
export interface ResolvedBinding {
  readonly name: string;
  /** One side, or two for dual-write (primary first). Empty when the binding cannot write. */
  readonly write: readonly BindingSide[];
  readonly require: 'both' | 'primary';
  /** One side, or two for dual-read. */
  readonly read: readonly BindingSide[];
  readonly entry: BindingEntry;
}

/**
 * Loads the config file (`options.path`, else `$SWITCHYARD_CONFIG`, else `switchyard.config.yaml`
 * / `.yml` / `.json` in the working directory) or `options.config`, validates it, and returns the
 * bindings. Nothing connects until a producer or consumer is asked for.
 */
export async function fromConfig(options: FromConfigOptions = {}): Promise<Bindings> {
  const loaded =
    options.config !== undefined
      ? validateConfig(options.config, { env: options.env ?? process.env })
      : await loadConfigFile(options);
  const warn = options.onWarning ?? ((w: string) => process.emitWarning(w, 'SwitchyardConfigWarning'));
  for (const warning of loaded.warnings) warn(warning);
  return new Bindings(loaded, options);
}

export class Bindings {
  readonly file: string | undefined;
  readonly loaded: LoadedConfig;
  readonly #options: FromConfigOptions;
  readonly #brokers = new Map<string, Promise<Broker>>();
  #closing: Promise<void> | undefined;

  /** @internal Use fromConfig(). */
  constructor(loaded: LoadedConfig, options: FromConfigOptions = {}) {
    this.loaded = loaded;
    this.file = loaded.file;
    this.#options = options;
  }

  get #label(): string {
    return this.file ?? 'switchyard config';
  }

  /** Binding names defined in the file. */
  get bindingNames(): string[] {
    return Object.keys(this.loaded.config.bindings);
  }

  get brokerNames(): string[] {
    return Object.keys(this.loaded.config.brokers);
  }

  /** Resolves a binding's sides; an unknown name is a CONFIG error listing the defined ones. */
  binding(name: string): ResolvedBinding {
    const entry = Object.hasOwn(this.loaded.config.bindings, name)
      ? this.loaded.config.bindings[name]
      : undefined;
    if (entry === undefined) {
      throw new ConfigError(
        `${this.#label}: unknown binding "${name}"; defined bindings: ${this.bindingNames.join(', ') || '(none)'}`,
        { details: { file: this.file, binding: name } },
      );
    }
    const destination = entry.destination ?? entry.source!;
    const source = entry.source ?? entry.destination!;
    const group = entry.group ?? 'default';
    const side = (ref: BrokerRef): BindingSide =>
      typeof ref === 'string'
        ? { broker: ref, destination, source, group }
        : {
            broker: ref.broker,
            destination: ref.destination ?? ref.source ?? destination,
            source: ref.source ?? ref.destination ?? source,
            group: ref.group ?? group,
          };
    const fallback = entry.broker === undefined ? [] : [side(entry.broker)];
    return {
      name,
      write: entry.write ? entry.write.brokers.map(side) : fallback,
      require: entry.write?.require ?? 'both',
      read: entry.read ? entry.read.brokers.map(side) : fallback,
      entry,
    };
  }

  /** The named broker, connected on first use and shared. */
  broker(name: string): Promise<Broker> {
    let broker = this.#brokers.get(name);
    if (broker === undefined) {
      broker = this.#connect(name);
      this.#brokers.set(name, broker);
      // A failed connection is not cached: the next call tries again.
      broker.catch(() => this.#brokers.delete(name));
    }
    return broker;
  }

  /** A producer for the binding: a core Producer, or a DualWriteProducer during a migration. */
  async producer(name: string, options: ProducerOptions = {}): Promise<BindingProducer> {
    const binding = this.binding(name);
    if (binding.write.length === 0) {
      throw new ConfigError(
        `${this.#label}: binding "${name}" has no broker to write to (set "broker" or "write")`,
        {
          details: { file: this.file, binding: name, fields: [`bindings.${name}.write`] },
        },
      );
    }
    const opts = { ...binding.entry.producer, ...options };
    const producers = await Promise.all(
      binding.write.map(async (side) => (await this.broker(side.broker)).producer(side.destination, opts)),
    );
    if (producers.length === 1) return producers[0]!;
    return new DualWriteProducer(producers[0]!, producers[1]!, {
      require: binding.require,
      names: [binding.write[0]!.broker, binding.write[1]!.broker],
      ...(this.#options.logger ? { logger: this.#options.logger } : {}),
      ...(this.#options.onSecondaryError ? { onSecondaryError: this.#options.onSecondaryError } : {}),
    });
  }

  /** A consumer for the binding: a core Consumer, or a DualReadConsumer during a migration. */
  async consumer(name: string, options: ConsumerOptions = {}): Promise<BindingConsumer> {
    const binding = this.binding(name);
    if (binding.read.length === 0) {
      throw new ConfigError(
        `${this.#label}: binding "${name}" has no broker to read from (set "broker" or "read")`,
        {
          details: { file: this.file, binding: name, fields: [`bindings.${name}.read`] },
        },
      );
    }
    const opened: Consumer[] = [];
    try {
      for (const side of binding.read) {
        const broker = await this.broker(side.broker);
        opened.push(
          await broker.consumer(side.source, {
            ...(binding.entry.consumer as ConsumerOptions | undefined),
            group: side.group,
            ...options,
          }),
        );
      }
    } catch (error) {
      await Promise.allSettled(opened.map((c) => c.close()));
      throw error;
    }
    if (opened.length === 1) return opened[0]!;
    return new DualReadConsumer(
      opened,
      binding.read.map((s) => s.broker),
    );
  }

  /** Closes every broker that was connected (draining their producers and consumers). Idempotent. */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const brokers = await Promise.allSettled([...this.#brokers.values()]);
      await Promise.allSettled(
        brokers.flatMap((b) => (b.status === 'fulfilled' ? [b.value.close(options)] : [])),
      );
    })();
    return this.#closing;
  }

  async #connect(name: string): Promise<Broker> {
    const entry = Object.hasOwn(this.loaded.config.brokers, name)
      ? this.loaded.config.brokers[name]
      : undefined;
    if (entry === undefined) {
      throw new ConfigError(
        `${this.#label}: unknown broker "${name}"; defined brokers: ${this.brokerNames.join(', ') || '(none)'}`,
        { details: { file: this.file, broker: name } },
      );
    }
    const logger = this.#options.logger;
    const { description: _description, url, ...fields } = entry;
    try {
      // A URL carries no logger; use the driver form to give brokers the logger.
      if (url !== undefined) return await connect(url);
      return await connect({ ...(fields as BrokerConfig), ...(logger ? { logger } : {}) });
    } catch (error) {
      const e = toSwitchyardError(error);
      throw new SwitchyardError(e.code, `${this.#label}: broker "${name}": ${e.message}`, {
        cause: e,
        retryable: e.retryable,
        details: { ...e.details, file: this.file, broker: name },
        ...(e.driver === undefined ? {} : { driver: e.driver }),
      });
    }
  }
}
