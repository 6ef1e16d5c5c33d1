// Child-process entry for bench/scaling.ts: one Switchyard consumer in its own process, one member
// of a consumer group. It connects and opens the consumer, says "ready", starts run() on "go",
// reports how many it handled (every REPORT_EVERY, and when asked) and exits on "stop".

import { connect } from '@switchyard/core';

interface Job {
  readonly target: Parameters<typeof connect>[0];
  readonly destination: string;
  readonly options: Record<string, unknown>;
}

const REPORT_EVERY = 100;
const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const broker = await connect(job.target);
const consumer = await broker.consumer(job.destination, job.options);
const stop = new AbortController();
let handled = 0;
let reported = 0;
const report = () => {
  if (handled === reported) return;
  process.send?.({ handled: handled - reported });
  reported = handled;
};

process.on('message', async (m: { op: string }) => {
  if (m.op === 'go') {
    await consumer.run(
      () => {
        if (++handled - reported >= REPORT_EVERY) report();
      },
      { signal: stop.signal },
    );
  } else if (m.op === 'flush') {
    report();
  } else if (m.op === 'stop') {
    stop.abort();
    await broker.close();
    process.exit(0);
  }
});
process.send?.({ ready: true });
