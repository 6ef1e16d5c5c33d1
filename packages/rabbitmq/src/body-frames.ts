// How the driver's own publishes write a large body: as frames that point into the body, not
// copies of it. amqplib (2.x) writes each body frame by allocating a zero-filled buffer of the
// frame's size and copying that part of the body into it (`makeBodyFrame`): one 65,544-byte
// allocation per 64 KiB message, eight 128 KiB ones per 1 MiB message. Those buffers live until
// V8 collects them in bulk (external memory), so a publish phase grows glibc's heap by tens of MiB
// and, once a collection frees them, glibc gives the top of its heap back to the kernel (trim):
// the next phase's frames land on pages mapped afresh, ≈ 16 first-touch faults per 64 KiB message
// (≈ 11 µs each on a host whose kernel reports freed memory to the hypervisor; docs/bench-profiles.md
// §23.0 and the section on these fresh pages after it). Written here as the frame's 7-byte header, a view of the body and the frame-end octet, a
// frame costs no body-sized allocation and no copy; the bytes on the wire are the same.
//
// The body is then read when the socket writes it rather than when `publish` is called, so the
// caller's bytes must stay as they were until the send settles (amqplib's copy made the body the
// caller's again at once). A send settles at its confirm, which the broker sends only after it has
// read the whole body, so that holds for every send that succeeds; a send that fails while its
// frames still wait in amqplib's buffers (its deadline passed on a connection that was not
// draining, or the producer closed) may still have them written afterwards, as amqplib would with
// its copy — from the body as it is by then. Only the driver's own publishes take this path
// (`inPlaceBodies.on` around them): a channel the application opens through the escape hatch keeps
// amqplib's copying behaviour.

/** amqplib's Connection, as far as writing body frames needs it (internals, checked before use). */
interface AmqpConnection {
  sendContent(channel: number, body: Buffer): boolean;
  readonly channels: ReadonlyArray<{ readonly buffer: { write(chunk: Buffer): boolean } } | null | undefined>;
  /** The negotiated frame_max (0xffffffff for none). */
  readonly frameMax: number;
  sentSinceLastCheck: boolean;
}

const FRAME_BODY = 3;
const FRAME_END = 206;
/** type (1), channel (2), size (4), and the frame-end octet after the payload. */
const HEADER_BYTES = 7;
const FRAME_OVERHEAD = HEADER_BYTES + 1;
/** Written after a message's last body frame (never changed: one buffer for every message). */
const FRAME_END_OCTET = Buffer.of(FRAME_END);

/**
 * Bodies from this size on are written in place. Below it amqplib's copy is cheaper than the two
 * extra chunks a message then takes through its channel buffer and the muxer (a 2–16 KiB copy is a
 * fraction of a microsecond), and a body under 2 KiB goes out in amqplib's one-buffer frame anyway.
 */
export const IN_PLACE_MIN_BYTES = 16 * 1024;

/**
 * Set by the Publisher around its own `channel.publish` calls (amqplib writes the frames
 * synchronously inside that call), so that only they write bodies in place.
 */
export const inPlaceBodies = { on: false };

/**
 * Replaces `connection.sendContent` with one that writes the driver's large bodies in place (see
 * above) and hands everything else to amqplib's own. Another amqplib, whose connection lacks these
 * internals, is left as it is; returns whether the writer is installed.
 */
export function writeBodiesInPlace(connection: unknown): boolean {
  const c = connection as Partial<AmqpConnection> | undefined;
  if (c === undefined || c === null || typeof c.sendContent !== 'function') return false;
  if (!Array.isArray(c.channels) || typeof c.frameMax !== 'number') return false;
  const copying = c.sendContent;
  (c as AmqpConnection).sendContent = function (this: AmqpConnection, channel: number, body: Buffer) {
    const maxBody = this.frameMax - FRAME_OVERHEAD;
    // amqplib's own reports a frame_max that leaves no room for a body.
    if (!inPlaceBodies.on || body.length < IN_PLACE_MIN_BYTES || !(maxBody > 0))
      return copying.call(this, channel, body);
    return writeFrames(this, channel, body, maxBody);
  };
  return true;
}

/** Writes `body` as body frames of at most `maxBody` payload bytes each; returns the last write's result. */
function writeFrames(connection: AmqpConnection, channel: number, body: Buffer, maxBody: number): boolean {
  const buffer = connection.channels[channel]!.buffer;
  for (let offset = 0; offset < body.length; offset += maxBody) {
    const size = Math.min(maxBody, body.length - offset);
    // The previous frame's end octet goes out with this frame's header: one chunk, not two.
    const lead = offset === 0 ? 0 : 1;
    // Small (pooled by Buffer.allocUnsafe) and every byte of it written below.
    const header = Buffer.allocUnsafe(lead + HEADER_BYTES);
    if (lead === 1) header[0] = FRAME_END;
    header[lead] = FRAME_BODY;
    header.writeUInt16BE(channel, lead + 1);
    header.writeUInt32BE(size, lead + 3);
    buffer.write(header);
    buffer.write(size === body.length ? body : body.subarray(offset, offset + size));
  }
  const writable = buffer.write(FRAME_END_OCTET);
  connection.sentSinceLastCheck = true;
  return writable;
}
