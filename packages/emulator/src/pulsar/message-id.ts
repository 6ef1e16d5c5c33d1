// Pulsar message ids as the TDMQ HTTP API prints them: `ledgerId:entryId:partitionIndex`, with
// partition -1 for a non-partitioned topic (doc examples `26365:1475:0`, `5:7:-1`). That is the
// three-part String() form of the Go Pulsar client behind the HTTP gateway; a fourth batch-index part
// is accepted on input because other Pulsar clients print one. Clients must treat the string as opaque.

export interface MessageId {
  readonly ledgerId: number;
  readonly entryId: number;
  readonly partition: number;
}

export function formatMessageId(id: MessageId): string {
  return `${id.ledgerId}:${id.entryId}:${id.partition}`;
}

const ID_RE = /^(\d{1,15}):(\d{1,15}):(-1|\d{1,5})(?::(-1|\d{1,9}))?$/;

export function parseMessageId(text: string): MessageId | undefined {
  const m = ID_RE.exec(text.trim());
  if (!m) return undefined;
  return { ledgerId: Number(m[1]), entryId: Number(m[2]), partition: Number(m[3]) };
}
