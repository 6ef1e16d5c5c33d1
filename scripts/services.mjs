#!/usr/bin/env node
// Brings up what the test suite needs before `npm test`: a RabbitMQ server on 127.0.0.1:5672
// (guest/guest). Started when installed but stopped; installed from Debian's packages when missing.
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

await ensureRabbitmq();
console.error(`services: RabbitMQ is up on ${HOST}:${PORT}`);
