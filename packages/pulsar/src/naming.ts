// Pulsar names a topic `persistent://tenant/namespace/topic`; on TDMQ the tenant is the cluster id
// (`pulsar-xxxxxxxx`). A short name is qualified with the configured cluster and namespace, like
// Pulsar's own clients do with `public/default`; `namespace/topic` keeps the cluster; a name with
// three parts or a domain (`persistent://`, `non-persistent://`) is already full and passes.

import { InvalidArgumentError } from '@switchyard/core/driver';
import { DRIVER } from './errors.js';

/** Pulsar's NamedEntity rule for tenants, namespaces and topic local names. */
export const NAME_PART = /^[\w.:=-]+$/;

export interface NamingContext {
  /** The tenant: the TDMQ cluster id, or `public` on a stock Pulsar. */
  readonly cluster: string;
  readonly namespace: string;
}

export function qualifyTopic(name: string, context: NamingContext, field = 'topic'): string {
  const domain = /^(persistent|non-persistent):\/\//.exec(name);
  const rest = domain ? name.slice(domain[0].length) : name;
  const parts = rest.split('/');
  const bad =
    parts.length > 3 || (domain !== null && parts.length !== 3) || !parts.every((p) => NAME_PART.test(p));
  if (bad) {
    throw new InvalidArgumentError(
      `${field} "${name}" is not a Pulsar topic name: use "topic", "namespace/topic", "cluster/namespace/topic" ` +
        'or "persistent://cluster/namespace/topic" (each part letters, digits, _ - . : =)',
      { driver: DRIVER, details: { field, name } },
    );
  }
  if (domain !== null) return name;
  if (parts.length === 3) return `persistent://${rest}`;
  if (parts.length === 2) return `persistent://${context.cluster}/${rest}`;
  return `persistent://${context.cluster}/${context.namespace}/${rest}`;
}
