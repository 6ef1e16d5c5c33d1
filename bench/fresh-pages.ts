// What touching a newly mapped page costs on this machine. Hosts differ by an order of magnitude
// (≈ 11 µs per 4 KiB page on the 2026-12-06 host, whose kernel reports freed memory back to the
// hypervisor, so a page the process maps again faults in the host too), and that cost lands on
// whichever side of a row promotes objects to V8's old space or copies large bodies into new
// buffers. The results header prints it so runs on different hosts can be read side by side
// (docs/bench-profiles.md §20.0).

const PAGE = 4096;
const BYTES = 64 * 1024 * 1024;

/** Median process CPU time (user + system), µs, to first-touch one 4 KiB page of a fresh 64 MiB buffer (3 buffers). */
export function freshPageCostUs(): number {
  const each: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = process.cpuUsage();
    // An ArrayBuffer this large is its own zero-filled mapping: each page faults on first touch.
    const bytes = new Uint8Array(new ArrayBuffer(BYTES));
    for (let i = 0; i < BYTES; i += PAGE) bytes[i] = 1;
    const used = process.cpuUsage(started);
    each.push((used.user + used.system) / (BYTES / PAGE));
  }
  each.sort((a, b) => a - b);
  return each[1]!;
}
