// CPU time per thread kind for the profile scripts: what process.cpuUsage() sums, split into the
// main thread and the rest (V8's compiler and GC helpers, libuv's pool), which is where JIT warm-up
// and concurrent marking show (docs/bench-profiles.md 17.1).

import { readdirSync, readFileSync } from 'node:fs';

/** CPU ns of the main thread and of every other thread, from /proc's schedstat; undefined without /proc. */
export function threadCpu(): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number(tid) === process.pid) main += ns;
      else others += ns;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}
