// `--url`, `--from` and `--to` take a broker URL or `config:<binding>`. An Endpoint opens
// producers and consumers for either form with the same calls.

import {
  type BindingConsumer,
  type BindingProducer,
  type Bindings,
  type Broker,
  type ConsumerOptions,
  connect,
  fromConfig,
  type ProducerOptions,
  redact,
} from '@switchyard/core';
import { UsageError } from './exit-codes.js';

export interface NameOptions {
  destination?: string;
  source?: string;
  group?: string;
}

export interface Endpoint {
  /** For messages: the URL with its password hidden, or `config:<binding>`. */
  readonly label: string;
  readonly kind: 'url' | 'binding';
  producer(names: NameOptions, options?: ProducerOptions): Promise<BindingProducer>;
  consumer(names: NameOptions, options?: ConsumerOptions): Promise<BindingConsumer>;
  /** The brokers behind it (one for a URL; one or two for a binding), connected. */
  brokers(): Promise<Array<{ name: string; broker: Broker }>>;
  close(): Promise<void>;
}

export interface TargetContext {
  /** `--config` (else $SWITCHYARD_CONFIG, else ./switchyard.config.yaml|.yml|.json). */
  configPath?: string | undefined;
  /** Where config warnings go (stderr). */
  warn: (text: string) => void;
}

const CONFIG_PREFIX = 'config:';

export function isBindingSpec(spec: string): boolean {
  return spec.startsWith(CONFIG_PREFIX);
}

/** Opens the target; a URL connects now, a binding loads and validates the config file now. */
export async function openEndpoint(spec: string, what: string, context: TargetContext): Promise<Endpoint> {
  if (isBindingSpec(spec)) {
    const binding = spec.slice(CONFIG_PREFIX.length);
    if (binding === '') throw new UsageError(`${what}: "config:" needs a binding name, e.g. config:orders`);
    const bindings = await fromConfig({
      ...(context.configPath ? { path: context.configPath } : {}),
      onWarning: context.warn,
    });
    bindings.binding(binding); // unknown binding: CONFIG error now, before anything connects
    return bindingEndpoint(bindings, binding);
  }
  const broker = await connect(spec);
  return urlEndpoint(broker, redact(spec), what);
}

function urlEndpoint(broker: Broker, label: string, what: string): Endpoint {
  const need = (value: string | undefined, option: string): string => {
    if (value === undefined || value === '')
      throw new UsageError(`${what} is a URL, so ${option} is required (or use config:<binding>)`);
    return value;
  };
  return {
    label,
    kind: 'url',
    producer: (names, options = {}) => broker.producer(need(names.destination, '--destination'), options),
    consumer: (names, options = {}) =>
      broker.consumer(need(names.source, '--source'), {
        ...options,
        ...(names.group ? { group: names.group } : {}),
      }),
    brokers: async () => [{ name: label, broker }],
    close: () => broker.close(),
  };
}

function bindingEndpoint(bindings: Bindings, name: string): Endpoint {
  const noNames = (names: NameOptions, allowed: keyof NameOptions | undefined) => {
    for (const key of ['destination', 'source'] as const) {
      if (names[key] !== undefined && key !== allowed)
        throw new UsageError(`--${key} cannot be combined with config:${name}: the binding names it`);
    }
  };
  return {
    label: `config:${name}`,
    kind: 'binding',
    producer: (names, options) => {
      noNames(names, undefined);
      return bindings.producer(name, options);
    },
    consumer: (names, options = {}) => {
      noNames(names, undefined);
      return bindings.consumer(name, { ...options, ...(names.group ? { group: names.group } : {}) });
    },
    brokers: async () => {
      const binding = bindings.binding(name);
      const used = [...new Set([...binding.write, ...binding.read].map((side) => side.broker))];
      return Promise.all(
        used.map(async (broker) => ({ name: broker, broker: await bindings.broker(broker) })),
      );
    },
    close: () => bindings.close(),
  };
}
