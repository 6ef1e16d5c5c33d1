import { InvalidArgumentError } from '@switchyard/core/driver';

// Messaging actions name a topic by one path (`cluster/namespace/topic`); management actions by
// ClusterId + EnvironmentId + TopicName. A short name is qualified with the configured cluster and
// namespace; a full name (`cluster/namespace/topic`, optionally `persistent://`) passes unchanged.

export interface TopicName {
  /** What SendMessages / ReceiveMessage take. */
  readonly path: string;
  readonly clusterId: string;
  readonly environmentId: string;
  readonly topicName: string;
}

const PART = /^[A-Za-z0-9_.:-]+$/;

export function qualifyTopic(name: string, cluster: string | undefined, namespace: string): TopicName {
  const trimmed = name.trim();
  const scheme = /^(persistent|non-persistent):\/\//.exec(trimmed);
  const rest = scheme ? trimmed.slice(scheme[0].length) : trimmed;
  const parts = rest.split('/');
  if (parts.some((p) => !PART.test(p)) || parts.length > 3 || (scheme && parts.length !== 3)) {
    throw new InvalidArgumentError(
      `"${name}" is not a Pulsar topic name: use "topic", "namespace/topic" or "cluster/namespace/topic" (letters, digits, - and _)`,
      { driver: 'pulsar-http' },
    );
  }
  let clusterId: string | undefined;
  let environmentId = namespace;
  let topicName: string;
  if (parts.length === 3) [clusterId, environmentId, topicName] = parts as [string, string, string];
  else if (parts.length === 2) {
    clusterId = cluster;
    [environmentId, topicName] = parts as [string, string];
  } else {
    clusterId = cluster;
    topicName = parts[0] as string;
  }
  if (clusterId === undefined) {
    throw new InvalidArgumentError(
      `"${name}" needs a cluster: set "cluster" in the config (the TDMQ cluster id, pulsar-xxxxxxxx) or use "cluster/namespace/topic"`,
      { driver: 'pulsar-http' },
    );
  }
  const path = parts.length === 3 ? trimmed : `${clusterId}/${environmentId}/${topicName}`;
  return { path, clusterId, environmentId, topicName };
}

const SAFE = /^[A-Za-z0-9_-]+$/;

/**
 * The topic that holds one group's nacked messages. Topic names allow 64 characters of
 * [A-Za-z0-9_-]; a group name that does not fit is replaced by a stable hash.
 */
export function retryTopicName(topic: TopicName, group: string): TopicName {
  const suffix = SAFE.test(group) ? group : `g${hash(group)}`;
  let name = `${topic.topicName}-${suffix}-RETRY`;
  if (name.length > 64)
    name = `${topic.topicName.slice(0, 40)}-${hash(`${topic.topicName}\u0000${group}`)}-RETRY`;
  return {
    clusterId: topic.clusterId,
    environmentId: topic.environmentId,
    topicName: name,
    path: `${topic.clusterId}/${topic.environmentId}/${name}`,
  };
}

/** FNV-1a, 32 bits, as 8 hex digits: short, stable across processes. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
