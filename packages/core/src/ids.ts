import { randomBytes } from 'node:crypto';

// Message ids are time-ordered (48-bit ms timestamp + counter + randomness, UUIDv7 layout) so that
// they sort by send time in logs and stay unique across processes without coordination. Random
// bytes are drawn in blocks because crypto calls per message cost more than the rest of a send.

let pool = randomBytes(4096);
let offset = 0;
let lastMs = 0;
let sequence = 0;

function take(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function newMessageId(): string {
  const now = Date.now();
  if (now === lastMs) sequence = (sequence + 1) & 0xfff;
  else {
    lastMs = now;
    sequence = 0;
  }
  const r = take(8);
  const t = now.toString(16).padStart(12, '0');
  const s = (0x7000 | sequence).toString(16);
  const v = ((r[0]! & 0x3f) | 0x80).toString(16);
  let tail = '';
  for (let i = 1; i < 8; i++) tail += hex[r[i]!];
  return `${t.slice(0, 8)}-${t.slice(8)}-${s}-${v}${tail.slice(0, 2)}-${tail.slice(2)}`;
}
