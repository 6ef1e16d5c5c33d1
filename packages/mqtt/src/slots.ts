// Consumer client ids. In MQTT the session, and with it every message the broker queued for a
// consumer, belongs to a client id: a consumer that comes back under the same id gets what its
// predecessor left. So a group's consumers take stable ids, `<prefix><group>-<slot>`, the lowest
// slot no other consumer of this process holds: a consumer reopened after a close or a restart
// resumes the session of the one before it. Two processes must not share a prefix (the broker
// would hand one's session to the other): give each replica its own clientIdPrefix (pod name).

const held = new Set<string>();

export function takeSlot(prefix: string, group: string): { clientId: string; release(): void } {
  const base = `${prefix}${group.replace(/[^A-Za-z0-9_.:@-]/g, '_')}`;
  let slot = 0;
  while (held.has(`${base}-${slot}`)) slot++;
  const clientId = `${base}-${slot}`;
  held.add(clientId);
  return { clientId, release: () => held.delete(clientId) };
}

/** A client id the user chose (driverOptions.clientId): held too, so two consumers cannot share it. */
export function takeId(clientId: string): { clientId: string; release(): void } | undefined {
  if (held.has(clientId)) return undefined;
  held.add(clientId);
  return { clientId, release: () => held.delete(clientId) };
}
