// Child process of engine-api-durability.test.ts: an emulator started in-process on the state file
// given, which (with `cmq` or `pulsar`) creates that side's destinations through the engine API
// rather than over the wire, then prints its endpoints. The test kills it with SIGKILL to see what
// was saved. One side per run: a snapshot is of every engine, so one side's flag would save both.

import { DEFAULT_CLUSTER_ID } from '../src/pulsar/engine.js';
import { startEmulator } from '../src/start.js';

const [statePath, mode] = process.argv.slice(2);
if (statePath === undefined) throw new Error('usage: engine-api-child.ts STATE_FILE [cmq|pulsar]');
// Compaction pushed out of the test's way: only what the changes themselves saved survives a kill.
const emulator = await startEmulator({ statePath, stateIntervalMs: 600_000 });
const { cmq, pulsar } = emulator.engines;
if (mode === 'cmq') {
  cmq.createQueue('direct-q');
  cmq.createQueue('direct-tq');
  cmq.createTopic('direct-t');
  cmq.subscribe('direct-t', 's', {
    protocol: 'queue',
    endpoint: 'direct-tq',
    notifyContentFormat: 'SIMPLIFIED',
  });
}
if (mode === 'pulsar') {
  // Retention keeps the message of a topic with no subscription yet (the reader subscribes later).
  pulsar.createNamespace(DEFAULT_CLUSTER_ID, 'direct-ns', 86_400, { timeInMinutes: 60, sizeInMB: 0 }, '');
  pulsar.createTopic(DEFAULT_CLUSTER_ID, 'direct-ns', 'direct-p', {
    partitions: 2,
    partitioned: true,
    pulsarTopicType: 3,
    topicType: 0,
    remark: '',
    msgTtlSec: undefined,
    ackTimeoutSec: undefined,
  });
}
process.stdout.write(`${JSON.stringify(emulator.endpoints)}\n`);
process.once('SIGTERM', () => {
  void emulator.stop().then(() => process.exit(0));
});
