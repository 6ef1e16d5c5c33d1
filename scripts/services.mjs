#!/usr/bin/env node
// Brings up what the test suite needs before `npm test`: a RabbitMQ server on 127.0.0.1:5672
// (guest/guest), started when installed but stopped, and a Python that imports pika (the interop
// tests run TDMQ's Python getting-started programs). Both come from Debian's packages when missing.
// In CI a service that cannot be brought up is a failure, never a silent skip.

import { execFileSync, spawnSync } from 'node:child_process';
import { connect } from 'node:net';

const HOST = '127.0.0.1';
const PORT = 5672;
const START_TIMEOUT_MS = 120_000;

function reachable(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command, args) {
  console.error(`services: ${command} ${args.join(' ')}`);
  execFileSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function fail(message) {
  console.error(`services: ${message}`);
  process.exit(1);
}

async function ensureRabbitmq() {
  if (await reachable(HOST, PORT)) return;
  if (!has('rabbitmq-server')) {
    if (process.getuid?.() !== 0) {
      fail(
        'RabbitMQ is not installed and this user cannot install it; run: sudo apt-get update && sudo apt-get install -y rabbitmq-server',
      );
    }
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', 'rabbitmq-server']);
    // The package's own service start may already have brought it up.
    if (await reachable(HOST, PORT)) return;
  }
  // A node that is up with its app stopped (rabbitmqctl stop_app) needs start_app, not a new node.
  const nodeUp =
    has('rabbitmqctl') &&
    spawnSync('rabbitmqctl', ['-q', 'ping'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
  if (nodeUp) run('rabbitmqctl', ['start_app']);
  else run('rabbitmq-server', ['-detached']);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await reachable(HOST, PORT)) {
      // The port opens before the broker finishes booting its apps; wait for that too.
      if (has('rabbitmqctl'))
        spawnSync('rabbitmqctl', ['await_startup', '--timeout', '60'], { stdio: 'ignore' });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  fail(
    `RabbitMQ did not start listening on ${HOST}:${PORT} within ${START_TIMEOUT_MS / 1000} s; see /var/log/rabbitmq/`,
  );
}

// `python3` on PATH may be another Python (pyenv) that never sees Debian's packages; the tests
// (test/pika-helpers.ts) try the same list, so what passes here is what they run.
const PYTHONS = [process.env.SWITCHYARD_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);

function pythonWithPika() {
  return PYTHONS.find(
    (python) => spawnSync(python, ['-c', 'import pika'], { stdio: 'ignore', timeout: 30_000 }).status === 0,
  );
}

function ensurePika() {
  let python = pythonWithPika();
  if (python !== undefined) return python;
  if (process.getuid?.() !== 0) {
    fail(
      `no Python imports pika (tried ${PYTHONS.join(', ')}) and this user cannot install it; run: sudo apt-get update && sudo apt-get install -y python3-pika`,
    );
  }
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', 'python3-pika']);
  python = pythonWithPika();
  if (python === undefined)
    fail(`python3-pika is installed but none of ${PYTHONS.join(', ')} imports pika; set SWITCHYARD_PYTHON`);
  return python;
}

await ensureRabbitmq();
console.error(`services: RabbitMQ is up on ${HOST}:${PORT}`);
console.error(`services: ${ensurePika()} imports pika`);
