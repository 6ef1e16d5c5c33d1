// Request bodies that are JSON objects (HEART_BEAT, LOCK/UNLOCK_BATCH_MQ). A body that is not one
// fails as the Java broker's decode does, with code 1 and the exception as the remark.

/** What Apache's RemotingSerializable.decode failing looks like once it reaches the reply. */
export class RemotingCommandException extends Error {
  override name = 'RemotingCommandException';
}

export function jsonObjectBody(body: Buffer | undefined, what: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(body?.toString('utf8') || '{}');
  } catch (cause) {
    throw new RemotingCommandException(`the ${what} body is not JSON`, { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new RemotingCommandException(`the ${what} body is not a JSON object`);
  return data as Record<string, unknown>;
}
