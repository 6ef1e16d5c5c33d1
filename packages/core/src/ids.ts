import { randomBytes } from 'node:crypto';

// Message ids must be unique across processes without coordination and cheap enough to make one
// per message at a million messages a second: a random 64-bit prefix drawn once per process, the
// process start time, and a counter.

const prefix = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}-`;
let counter = 0;

export function newMessageId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return prefix + counter.toString(36);
}
