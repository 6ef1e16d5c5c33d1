// Whether a body holds a control byte other than tab, LF and CR, or DEL: what impliedContentType
// (body.ts) asks of every send of binary-typed bytes and every receive without a content type.
//
// Node has no native "any byte of a set" scan: Buffer.includes is one memchr per byte value, so
// the 30 control bytes took 30 passes over a text body (≈ 0.27-0.32 ms per MiB, ≈ 0.6 µs at 256 B,
// 30 native calls). Here it is one pass of a small WebAssembly SIMD loop, 64 bytes per turn, over
// the body copied in chunks into the module's memory: ≈ 0.1 ms per MiB copy included, ≈ 0.14 µs at
// 256 B. Where WebAssembly is missing (node --jitless) the memchr scans remain.

/** Bytes scanned per call: the module's memory holds one chunk (padded), so it never grows. */
const CHUNK = 256 * 1024;
/** The loop reads 64 bytes per turn; a chunk's tail is padded with spaces (not control bytes). */
const STEP = 64;
const PAGES = Math.ceil((CHUNK + STEP) / 65_536);

/** Control bytes other than tab, LF and CR, and DEL. */
const CONTROL_BYTES = [
  ...Array.from({ length: 0x20 }, (_, b) => b).filter((b) => b !== 0x09 && b !== 0x0a && b !== 0x0d),
  0x7f,
];

interface Scanner {
  readonly memory: Uint8Array;
  /** 1 when bytes [0, end) hold a control byte; `end` a multiple of STEP. */
  readonly scan: (end: number) => number;
}

let scanner: Scanner | null | undefined;

export function hasControlBytes(body: Uint8Array): boolean {
  scanner ??= makeScanner();
  if (scanner === null) return hasControlBytesByMemchr(body);
  const { memory, scan } = scanner;
  for (let start = 0; start < body.byteLength; start += CHUNK) {
    const chunk = body.subarray(start, Math.min(start + CHUNK, body.byteLength));
    const end = Math.ceil(chunk.byteLength / STEP) * STEP;
    memory.set(chunk);
    memory.fill(0x20, chunk.byteLength, end);
    if (scan(end) !== 0) return true;
  }
  return false;
}

/** The scan without WebAssembly: one native memchr per control byte. */
export function hasControlBytesByMemchr(body: Uint8Array): boolean {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (const control of CONTROL_BYTES) if (bytes.includes(control)) return true;
  return false;
}

/** The part of the WebAssembly global used here (core's TypeScript lib does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

function makeScanner(): Scanner | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    const { exports } = new wasm.Instance(new wasm.Module(scannerModule()));
    const memory = exports.memory as { buffer: ArrayBuffer };
    return { memory: new Uint8Array(memory.buffer), scan: exports.scan as (end: number) => number };
  } catch {
    // No SIMD in this engine: the memchr scans.
    return null;
  }
}

/**
 * The module, assembled here rather than shipped as a binary so that it reads as what it does:
 *
 *   (memory (export "memory") PAGES)
 *   (func (export "scan") (param $end i32) (result i32)
 *     (local $i i32) (local $v v128) (local $space v128) (local $allowed v128) (local $del v128)
 *     $space := splat 0x20; $allowed := bytes 9, 10 and 13 all ones, the rest 0; $del := splat 0x7f
 *     loop while $i < $end:
 *       for k in 0..3, over $v = load($i + 16k), OR-ed together:
 *         (($v <u $space) AND NOT swizzle($allowed, $v)) OR ($v == $del)
 *       if any lane is set: return 1
 *       $i += 64
 *     return 0)
 *
 * swizzle($allowed, $v) is $allowed[$v] for $v < 16 and 0 otherwise: all ones exactly for tab, LF
 * and CR.
 */
function scannerModule(): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      const low = n & 0x7f;
      n >>>= 7;
      out.push(n === 0 ? low : low | 0x80);
    } while (n !== 0);
    return out;
  };
  const vector = (items: number[][]) => [...leb(items.length), ...items.flat()];
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (text: string) => [...leb(text.length), ...Buffer.from(text)];
  const simd = (op: number) => [0xfd, op];
  const constant = (bytes: number[]) => [...simd(0x0c), ...bytes];
  const [get, set, tee] = [0x20, 0x21, 0x22];
  const [LOAD, SWIZZLE, EQ, LT_U, ANDNOT, OR, ANY_TRUE] = [0x00, 0x0e, 0x23, 0x26, 0x4f, 0x50, 0x53];
  // Locals: 0 $end (the parameter), 1 $i, 2 $v, 3 $space, 4 $allowed, 5 $del.
  const allowed = Array.from({ length: 16 }, (_, b) => (b === 0x09 || b === 0x0a || b === 0x0d ? 0xff : 0));
  const lanes = (k: number) => [
    ...[get, 1, ...simd(LOAD), 0, 16 * k, tee, 2, get, 3, ...simd(LT_U)],
    ...[get, 4, get, 2, ...simd(SWIZZLE), ...simd(ANDNOT)],
    ...[get, 2, get, 5, ...simd(EQ), ...simd(OR)],
  ];
  const code = [
    ...[...constant(new Array(16).fill(0x20)), set, 3],
    ...[...constant(allowed), set, 4],
    ...[...constant(new Array(16).fill(0x7f)), set, 5],
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...[get, 1, get, 0, 0x4f, 0x0d, 1], // i32.ge_u $i $end: br_if out of the block
    ...lanes(0),
    ...lanes(1),
    ...simd(OR),
    ...lanes(2),
    ...simd(OR),
    ...lanes(3),
    ...simd(OR),
    ...[...simd(ANY_TRUE), 0x04, 0x40, 0x41, 1, 0x0f, 0x0b], // if: return 1
    ...[get, 1, 0x41, ...signedLeb(STEP), 0x6a, set, 1], // $i += STEP
    ...[0x0c, 0, 0x0b, 0x0b], // br to the loop; end loop, end block
    ...[0x41, 0, 0x0b], // return 0
  ];
  const body = [
    ...vector([
      [1, 0x7f],
      [4, 0x7b],
    ]),
    ...code,
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vector([[0x60, 1, 0x7f, 1, 0x7f]])), // type: (i32) -> i32
    ...section(3, vector([[0]])), // one function of that type
    ...section(5, vector([[0x00, ...leb(PAGES)]])), // memory of PAGES pages
    ...section(
      7,
      vector([
        [...name('memory'), 0x02, 0],
        [...name('scan'), 0x00, 0],
      ]),
    ),
    ...section(10, vector([[...leb(body.length), ...body]])),
  ]);
}

/** An i32.const immediate (signed LEB128) for a small positive number. */
function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const low = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (low & 0x40) === 0) || (n === -1 && (low & 0x40) !== 0)) return [...out, low];
    out.push(low | 0x80);
  }
}
