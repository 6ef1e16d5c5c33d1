#!/usr/bin/env node
// Brings up what the test suite needs before `npm test` (and `npm run bench`, the same brokers): a RabbitMQ server on 127.0.0.1:5672
// (guest/guest), Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`)
// and MariaDB on 127.0.0.1:3306 (root, empty password, database `test`) — the dedup stores and the
// outbox run against the real servers — and Mosquitto on 127.0.0.1:1883 with mosquitto_pub/_sub
// (the MQTT driver's tests), each started when installed but stopped, and a Python that
// imports pika (the interop tests run TDMQ's Python getting-started programs). All come from
// Debian's packages when missing. In CI a service that cannot be brought up is a failure, never a
// silent skip.

import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

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

const IN_CI = process.env.CI === 'true';

async function waitFor(name, port, hint) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await reachable(HOST, port)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail(`${name} did not start listening on ${HOST}:${port} within ${START_TIMEOUT_MS / 1000} s; ${hint}`);
}

// Installs the Debian packages of every missing server with one apt-get update.
function installMissing(missing) {
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `not installed and this user cannot install it; run: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', ...missing]);
}

// A service this machine cannot bring up fails the run in CI; elsewhere it is reported and the
// tests that need it fail with their own connection error, so one broken server does not block
// work on the others.
async function ensure(name, bringUp) {
  try {
    await bringUp();
    return true;
  } catch (error) {
    const message = `${name} could not be brought up: ${error instanceof Error ? error.message : String(error)}`;
    if (IN_CI) fail(message);
    console.error(`services: ${message}`);
    return false;
  }
}

async function ensureRedis() {
  if (await reachable(HOST, 6379)) return;
  run('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    HOST,
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await waitFor('Redis', 6379, 'run redis-server in the foreground to see why');
}

function psql(sql) {
  return execFileSync('psql', ['-h', HOST, '-U', 'postgres', '-d', 'postgres', '-tAc', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

async function ensurePostgres() {
  if (!(await reachable(HOST, 5432))) {
    const [version] = execFileSync('ls', ['/etc/postgresql'], { encoding: 'utf8' }).split(/\s+/);
    if (!version) throw new Error('no cluster under /etc/postgresql; run: pg_createcluster <version> main');
    run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    await waitFor('PostgreSQL', 5432, 'see /var/log/postgresql/');
  }
  if (psql("SELECT 1 FROM pg_database WHERE datname = 'test'") !== '1') psql('CREATE DATABASE test');
}

async function ensureMariadb() {
  if (!(await reachable(HOST, 3306))) {
    run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd']);
    await waitFor('MariaDB', 3306, 'see /var/log/mysql/ or run /usr/sbin/mariadbd in the foreground');
  }
  execFileSync('mysql', ['-h', HOST, '-u', 'root', '-e', 'CREATE DATABASE IF NOT EXISTS test'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

// Mosquitto's own Nagle holds its small packets (PUBACKs, SUBACKs) against a client's delayed ACK:
// a random ≈ 40 ms tail on either side of the bench's MQTT rows, and on any request-answer exchange
// the tests make (docs/bench-profiles.md §23.3). The switch is the broker's, so it goes into its
// configuration: a drop-in where the main file has an include_dir (Debian's has
// /etc/mosquitto/conf.d), else a line appended to the main file. A set_tcp_nodelay already in
// either is someone's choice and is left alone.
const MOSQUITTO_CONF = '/etc/mosquitto/mosquitto.conf';
const NODELAY = 'set_tcp_nodelay true';
const NODELAY_WHY =
  "# Added by switchyard's scripts/services.mjs: without it the broker's Nagle holds small packets ≈ 40 ms.";

function confValues(text, option) {
  const pattern = new RegExp(`^\\s*${option}\\s+(.+?)\\s*$`, 'gm');
  return [...text.matchAll(pattern)].map((match) => match[1]);
}

/** Adds the setting unless the configuration has one; returns whether it was added. */
function ensureMosquittoNoDelay() {
  if (!existsSync(MOSQUITTO_CONF))
    throw new Error(`${MOSQUITTO_CONF} is missing; reinstall the mosquitto package`);
  const main = readFileSync(MOSQUITTO_CONF, 'utf8');
  const dirs = confValues(main, 'include_dir');
  // Mosquitto reads only the *.conf files of an include_dir.
  const included = dirs.flatMap((dir) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => name.endsWith('.conf'))
          .map((name) => readFileSync(join(dir, name), 'utf8'))
      : [],
  );
  if ([main, ...included].some((text) => confValues(text, 'set_tcp_nodelay').length > 0)) return false;
  try {
    if (dirs.length > 0) {
      mkdirSync(dirs[0], { recursive: true });
      writeFileSync(join(dirs[0], 'switchyard-nodelay.conf'), `${NODELAY_WHY}\n${NODELAY}\n`);
    } else {
      appendFileSync(MOSQUITTO_CONF, `${main.endsWith('\n') ? '' : '\n'}\n${NODELAY_WHY}\n${NODELAY}\n`);
    }
  } catch (error) {
    // The broker still works without it; only the MQTT timings spread wider.
    console.error(
      `services: could not add \`${NODELAY}\` to Mosquitto's configuration (${error instanceof Error ? error.message : String(error)}); add it by hand for steady MQTT bench rows`,
    );
    return false;
  }
  console.error(`services: added \`${NODELAY}\` to Mosquitto's configuration`);
  return true;
}

// A daemon whose parent is gone may stay a zombie until something reaps it: that one has stopped.
function running(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// Stops the broker the main configuration's pid_file names, so that a start reads the new setting
// (a SIGHUP reload reads the file but, in 2.0.11, does not apply set_tcp_nodelay to new sockets).
// Sessions survive: with persistence on, Mosquitto saves them on SIGTERM and loads them at start.
// Returns false when no such broker can be found (someone else's broker on 1883 is left running).
async function stopMosquitto() {
  const [pidFile] = confValues(readFileSync(MOSQUITTO_CONF, 'utf8'), 'pid_file');
  const pid = pidFile !== undefined && existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
  const command =
    pid > 0 && existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '';
  if (command !== 'mosquitto') {
    console.error(
      `services: the broker on ${HOST}:1883 is not the one ${MOSQUITTO_CONF} starts; restart it to apply \`${NODELAY}\``,
    );
    return false;
  }
  console.error(`services: restarting Mosquitto (pid ${pid}) to apply \`${NODELAY}\``);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (running(pid) || (await reachable(HOST, 1883))) {
    if (Date.now() > deadline)
      throw new Error(`Mosquitto (pid ${pid}) did not stop within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return true;
}

// The MQTT driver's tests; Debian's configuration listens on 1883 (anonymous, localhost only).
async function ensureMosquitto() {
  const added = ensureMosquittoNoDelay();
  if (await reachable(HOST, 1883)) {
    if (!added || !(await stopMosquitto())) return;
  }
  run('/usr/sbin/mosquitto', ['-d', '-c', MOSQUITTO_CONF]);
  await waitFor('Mosquitto', 1883, `run mosquitto -c ${MOSQUITTO_CONF} in the foreground to see why`);
}

await ensureRabbitmq();
console.error(`services: RabbitMQ is up on ${HOST}:${PORT}`);
console.error(`services: ${ensurePika()} imports pika`);

// Debian package → a command it installs, for the servers the stores and the outbox use.
// mariadbd lives in /usr/sbin, which a non-root PATH often lacks.
const SERVERS = {
  'redis-server': 'redis-server',
  postgresql: 'pg_ctlcluster',
  'mariadb-server': '/usr/sbin/mariadbd',
  mosquitto: '/usr/sbin/mosquitto',
  'mosquitto-clients': 'mosquitto_pub', // the MQTT interop tests run mosquitto_pub / mosquitto_sub
};
const missing = Object.entries(SERVERS)
  .filter(([, command]) => !has(command))
  .map(([pkg]) => pkg);
await ensure(missing.join(', '), async () => installMissing(missing));
if (await ensure('Redis', ensureRedis)) console.error(`services: Redis is up on ${HOST}:6379`);
if (await ensure('PostgreSQL', ensurePostgres))
  console.error(`services: PostgreSQL is up on ${HOST}:5432 (database test)`);
if (await ensure('MariaDB', ensureMariadb))
  console.error(`services: MariaDB is up on ${HOST}:3306 (database test)`);
if (await ensure('Mosquitto', ensureMosquitto)) console.error(`services: Mosquitto is up on ${HOST}:1883`);
