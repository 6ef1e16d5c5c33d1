// The messaging actions name a topic by one string, in any of the forms the TDMQ docs show:
// `persistent://tenant/namespace/topic`, `tenant/namespace/topic`, or a bare `topic` meaning
// `public/default/topic`. In TDMQ the tenant is the cluster id. Management actions name the same
// topic by ClusterId + EnvironmentId (the namespace) + TopicName instead.

export interface TopicPath {
  readonly tenant: string;
  readonly namespace: string;
  readonly topic: string;
}

export function parseTopicPath(text: string): TopicPath | undefined {
  let rest = text.trim();
  const scheme = /^(persistent|non-persistent):\/\//.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const parts = rest.split('/');
  if (parts.some((p) => p === '')) return undefined;
  if (parts.length === 1) return { tenant: 'public', namespace: 'default', topic: parts[0] as string };
  if (parts.length === 3) {
    return { tenant: parts[0] as string, namespace: parts[1] as string, topic: parts[2] as string };
  }
  return undefined;
}

export function formatTopicPath(clusterId: string, namespace: string, topic: string): string {
  return `persistent://${clusterId}/${namespace}/${topic}`;
}
