// TDMQ resource names. TDMQ for RocketMQ 4.x clusters name a topic `clusterId|namespace%topic`
// and a group `clusterId|namespace%group`; SDKs without namespace support pass those full names
// as plain names, and `%` and `|` are legal name characters, so a 5.x gRPC client can use them
// too. 5.x clusters take a namespace field instead (the client's `namespace` option, sent as the
// `x-mq-namespace` header). Which form a given cluster expects is the user's choice (`naming`).

export type Naming = 'full' | 'field';

export interface NamingContext {
  readonly naming: Naming;
  /** TDMQ cluster id, e.g. `rocketmq-xxx`; optional (the 4.x general cluster has none). */
  readonly cluster: string | undefined;
  /** Short namespace name, e.g. `namespace_go`. */
  readonly namespace: string | undefined;
}

/** `clusterId|namespace`, `namespace`, or undefined when no namespace is configured. */
export function namespacePrefix(context: NamingContext): string | undefined {
  if (context.namespace === undefined || context.namespace === '') return undefined;
  // A namespace given already qualified (`rocketmq-xxx|ns`) is not qualified twice.
  if (context.cluster === undefined || context.cluster === '' || context.namespace.includes('|'))
    return context.namespace;
  return `${context.cluster}|${context.namespace}`;
}

/** True when `name` is already a TDMQ full name (`...%name`): it is used unchanged. */
export function isFullName(name: string): boolean {
  return name.includes('%');
}

/**
 * The wire name of a topic or group. In `full` naming a short name becomes
 * `clusterId|namespace%name`; in `field` naming names go out short and the namespace travels in
 * the client's namespace field. A full name always passes unchanged.
 */
export function qualify(name: string, context: NamingContext): string {
  if (isFullName(name) || context.naming === 'field') return name;
  const prefix = namespacePrefix(context);
  return prefix === undefined ? name : `${prefix}%${name}`;
}

/** The client's `namespace` option: the qualified namespace in `field` naming, else empty. */
export function clientNamespace(context: NamingContext): string {
  return context.naming === 'field' ? (namespacePrefix(context) ?? '') : '';
}
