// Child-process entry for bench/emulator-process.ts: the TDMQ emulator in its own process, so the
// client CPU a bench reads with process.cpuUsage() is the client's alone (a worker thread would
// share the process's CPU counters). Options arrive as JSON in argv[2].

import { type EmulatorOptions, startEmulator } from '@switchyard/emulator';

type Command = { op: 'stop' } | { op: 'rocketmqTopic'; name: string; queues?: number };

const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const emulator = await startEmulator(options);
process.send?.({ endpoints: emulator.endpoints, credentials: emulator.credentials });
process.on('message', async (command: Command) => {
  if (command.op === 'rocketmqTopic') {
    emulator.engines.rocketmq.createTopic(command.name, { type: 'MIXED', queues: command.queues ?? 1 });
    process.send?.({ done: command.name });
  } else if (command.op === 'stop') {
    await emulator.stop();
    process.send?.({ done: 'stop' }, () => process.exit(0));
  }
});
