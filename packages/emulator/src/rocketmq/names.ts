// Resource names and namespaces. Resources are keyed by their *full* name, TDMQ 4.x style:
// `<namespace>%<name>` (where a TDMQ namespace is itself `<clusterId>|<namespace>`). A client that
// sets `namespace: 'ns'` and names topic `T` therefore reaches the same topic as a client without
// a namespace that names `ns%T`. The namespace comes from `Resource.resource_namespace` when set,
// else from the `x-mq-namespace` header, because the Node client sets the former only on producer
// paths (sheet §7). Mode `ignore` copies the Apache proxy, which ignores both.

import { fail } from './statuses.js';

export type NamespaceMode = 'prefix' | 'ignore';

const SYSTEM_PREFIXES = ['%DLQ%', '%RETRY%'] as const;
const LEGAL = /^[A-Za-z0-9%|_-]+$/;

export function fullName(name: string, namespace: string | undefined, mode: NamespaceMode): string {
  if (mode === 'ignore' || !namespace) return name;
  for (const prefix of SYSTEM_PREFIXES) {
    if (name.startsWith(prefix)) {
      const rest = name.slice(prefix.length);
      // `%DLQ%group` seen through namespace ns is `%DLQ%ns%group`, as 4.x clients wrap it.
      return rest.includes('%') ? name : `${prefix}${namespace}%${rest}`;
    }
  }
  // A name that already carries a namespace (`cluster|ns%topic`) is a full name.
  return name.includes('%') ? name : `${namespace}%${name}`;
}

export function checkTopicName(name: unknown): string {
  if (typeof name !== 'string' || name === '') fail('ILLEGAL_TOPIC', 'topic name is empty');
  if (name.length > 127)
    fail('ILLEGAL_TOPIC', `topic name is longer than 127 characters: ${name.slice(0, 40)}...`);
  if (!LEGAL.test(name))
    fail('ILLEGAL_TOPIC', `topic name ${JSON.stringify(name)} has characters outside [A-Za-z0-9%|_-]`);
  return name;
}

export function checkGroupName(name: unknown): string {
  if (typeof name !== 'string' || name === '') fail('ILLEGAL_CONSUMER_GROUP', 'consumer group name is empty');
  if (name.length > 255) fail('ILLEGAL_CONSUMER_GROUP', 'consumer group name is longer than 255 characters');
  if (!LEGAL.test(name))
    fail(
      'ILLEGAL_CONSUMER_GROUP',
      `consumer group ${JSON.stringify(name)} has characters outside [A-Za-z0-9%|_-]`,
    );
  return name;
}

export function dlqTopicOf(groupKey: string): string {
  return `%DLQ%${groupKey}`;
}
