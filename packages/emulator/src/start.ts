// startEmulator: the CMQ HTTP server and the Tencent Cloud API server over one shared CMQ engine,
// plus the RocketMQ 5 gRPC server, with one fault injector and optional state persistence. The CLI
// is a thin shell around this.

import { randomBytes } from 'node:crypto';
import { CmqEngine, type CmqEngineOptions } from './cmq/engine.js';
import { CmqHandler } from './cmq/handler.js';
import { type Clock, type Credential, systemClock } from './contracts.js';
import { Faults } from './faults/injector.js';
import type { FaultRuleInput } from './faults/rules.js';
import type { PulsarEngine } from './pulsar/engine.js';
import { type RemotingServer, type RemotingServerOptions, startRemotingServer } from './remoting/server.js';
import { rocketMqAdminRoutes } from './rocketmq/admin.js';
import { RocketMqEngine, type RocketMqSnapshot } from './rocketmq/engine.js';
import { type RocketMqServer, type RocketMqServerOptions, startRocketMqServer } from './rocketmq/server.js';
import { withAdminRoutes } from './server/admin.js';
import { createProtocolServer, type ProtocolServer } from './server/protocol-server.js';
import { StateJournal } from './state/journal.js';
import { commitRequest } from './state/request-effects.js';
import { loadState } from './state-file.js';
import { createTcApiHandler, type TcApiHandlerOptions } from './tcapi/handler.js';
import { CredentialStore, credentialAdminRoutes, type IssueOptions } from './temporary-credentials.js';

/** The well-known key pair accepted when no credentials are given. */
export const DEFAULT_CREDENTIALS: readonly Credential[] = Object.freeze([
  Object.freeze({ secretId: 'AKIDEMULATOR', secretKey: 'emulator-secret-key' }),
]);

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly cmqPort?: number;
  readonly apiPort?: number;
  readonly credentials?: readonly Credential[];
  /** Initial fault rules, or a ready injector to share. */
  readonly faults?: Faults | { readonly seed?: number; readonly rules?: readonly FaultRuleInput[] };
  /** Seeds the fault dice and engine ids. */
  readonly seed?: number;
  /**
   * Keep state in this file: loaded at start; every change is journaled (FILE.journal) before the
   * reply that confirms it, and compacted into FILE periodically and on stop.
   */
  readonly statePath?: string;
  /** How often the journal is compacted into the snapshot, ms. Default 5000. */
  readonly stateIntervalMs?: number;
  /** fdatasync every journal write: survives a machine crash, not just the emulator's. Default false. */
  readonly stateFsync?: boolean;
  /**
   * Token for the `/_emulator/*` admin routes (`Authorization: Bearer <token>`). Default: random
   * per start (RunningEmulator.adminToken).
   */
  readonly adminToken?: string;
  readonly clock?: Clock;
  /** Allowed request Timestamp skew for CMQ signatures (s); 0 disables. Default 300. Wins over `auth.timestampWindowSeconds` for CMQ. */
  readonly timestampWindowSeconds?: number;
  /** Request authentication on every protocol: time window, replay detection, server clock offset. */
  readonly auth?: AuthOptions;
  /** Engine knobs (strictPublish, recreateGuardSeconds, pushRetryScale, ...). */
  readonly cmq?: Omit<CmqEngineOptions, 'clock' | 'seed'>;
  /** Pulsar knobs behind the Tencent Cloud API (extra cluster ids, default ack timeout, receive waits). */
  readonly pulsar?: TcApiHandlerOptions['pulsar'];
  /** RocketMQ gRPC port; 0 (default) picks a free port. */
  readonly rocketmqPort?: number;
  /**
   * RocketMQ knobs: `autoCreate` (default true) and the server options (auth, namespaces, limits,
   * long polling, invisibility, transaction checks). Credentials are the emulator's: accessKey =
   * secretId, secretKey = secretKey.
   */
  readonly rocketmq?: RocketMqOptions;
  /** RocketMQ 4.x Remoting (name server + broker) port; 0 (default) picks a free port. */
  readonly remotingPort?: number;
  /**
   * Remoting knobs (broker and cluster names, limits, long-poll cap). It shares the RocketMQ store,
   * credentials (AccessKey = secretId, SecretKey = secretKey) and `rocketmq.allowAnonymous`.
   */
  readonly remoting?: RemotingOptions;
}

export type RemotingOptions = Omit<
  RemotingServerOptions,
  'engine' | 'credentials' | 'host' | 'port' | 'faults' | 'commit' | 'allowAnonymous'
>;

export interface AuthOptions {
  /**
   * Allowed |request time − server time| in seconds, in both directions, on every protocol: CMQ
   * `Timestamp`, the Tencent Cloud API's `X-TC-Timestamp` / v1 `Timestamp`, RocketMQ's
   * `x-mq-date-time`. 0 = unchecked. Defaults: CMQ 300 and API 300 (Tencent's documented five
   * minutes), RocketMQ 900. `timestampWindowSeconds` (CMQ) and `rocketmq.dateWindowSeconds` still
   * win for their protocol.
   */
  readonly timestampWindowSeconds?: number;
  /**
   * Refuse an exact replay (same SecretId and Signature) of a request that carries a nonce, while
   * its timestamp is inside the window: CMQ (`4500 (10100)`) and the API's v1 signature
   * (`AuthFailure.SignatureExpire`). TC3 and RocketMQ have no nonce and are never checked. Default true.
   */
  readonly replayProtection?: boolean;
  /** Most requests remembered per protocol for replay detection (soonest to expire forgotten first). Default 100 000. */
  readonly replayCacheSize?: number;
  /**
   * Added to the real time that signature checks use, ms: a positive offset plays a server clock
   * ahead of the clients (their requests look old), a negative one a server behind them. Default 0.
   */
  readonly clockOffsetMs?: number;
}

export type RocketMqOptions = Omit<
  RocketMqServerOptions,
  'engine' | 'credentials' | 'host' | 'port' | 'faults' | 'commit'
> & {
  /** Create unknown topics (type MIXED) and groups on first use. Default true. */
  readonly autoCreate?: boolean;
};

export interface RunningEmulator {
  /**
   * `rocketmq` is `127.0.0.1:PORT`, the form the RocketMQ client's `endpoints` option takes;
   * `remoting` the 4.x name server address in the same form (it is the broker too).
   */
  readonly endpoints: {
    readonly cmq: string;
    readonly api: string;
    readonly rocketmq: string;
    readonly remoting: string;
  };
  readonly credentials: readonly Credential[];
  /**
   * Mints a key every protocol accepts from now on: with `ttlMs`, a temporary one (SecretId,
   * SecretKey and session token, refused with AuthFailure.TokenFailure / CMQ 4100 once expired).
   * Also `POST /_emulator/credentials`.
   */
  issueCredential(options?: IssueOptions): Credential;
  /** Removes a key (a rotated role token, a disabled API key); true when it existed. */
  revokeCredential(secretId: string): boolean;
  /** Bearer token for the `/_emulator/*` admin routes. */
  readonly adminToken: string;
  readonly faults: Faults;
  /** The Remoting server: its broker state, and `cutConnections()` for chaos tests. */
  readonly remoting: RemotingServer;
  readonly engines: {
    readonly cmq: CmqEngine;
    readonly pulsar: PulsarEngine;
    readonly rocketmq: RocketMqEngine;
  };
  /**
   * Resolves once no RocketMQ Telemetry stream is open: every started RocketMQ client's `shutdown()`
   * has reached the emulator. Await it (with a deadline) after shutting clients down, before stop().
   */
  telemetryClosed(): Promise<void>;
  /** Stop serving (end long polls and hangs, close every socket), then save state (if configured). */
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? systemClock;
  const credentials = options.credentials?.length ? [...options.credentials] : [...DEFAULT_CREDENTIALS];
  const faults =
    options.faults instanceof Faults
      ? options.faults
      : new Faults({
          ...(options.faults?.seed !== undefined || options.seed !== undefined
            ? { seed: options.faults?.seed ?? options.seed }
            : {}),
          rules: options.faults?.rules ?? [],
        });
  const cmq = new CmqEngine({
    ...options.cmq,
    clock,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const saved = options.statePath === undefined ? undefined : await loadState(options.statePath);
  if (saved !== undefined) cmq.restore(saved.cmq);
  // Clients stamp requests with real time whatever clock drives the engines.
  const offset = options.auth?.clockOffsetMs ?? 0;
  const authClock: Clock = offset === 0 ? systemClock : { now: () => Date.now() + offset };
  const authWindow = options.auth?.timestampWindowSeconds;
  const replay = {
    ...(options.auth?.replayProtection !== undefined
      ? { replayProtection: options.auth.replayProtection }
      : {}),
    ...(options.auth?.replayCacheSize !== undefined ? { replayCacheSize: options.auth.replayCacheSize } : {}),
  };
  const cmqWindow = options.timestampWindowSeconds ?? authWindow;
  const cmqHandler = new CmqHandler({
    engine: cmq,
    credentials,
    clock: authClock,
    ...(cmqWindow !== undefined ? { timestampWindowSeconds: cmqWindow } : {}),
    ...replay,
  });
  const apiHandler = createTcApiHandler({
    credentials,
    cmq,
    clock,
    authClock,
    ...(authWindow !== undefined ? { timestampWindowSeconds: authWindow } : {}),
    ...replay,
    ...(options.pulsar !== undefined ? { pulsar: options.pulsar } : {}),
  });
  if (saved?.api !== undefined) apiHandler.restore(saved.api);
  const { autoCreate, ...rocketOptions } = options.rocketmq ?? {};
  const rocketmq = new RocketMqEngine({ clock, ...(autoCreate !== undefined ? { autoCreate } : {}) });
  if (saved?.rocketmq !== undefined) rocketmq.restore(saved.rocketmq as RocketMqSnapshot);
  const journal =
    options.statePath === undefined
      ? undefined
      : new StateJournal({
          path: options.statePath,
          generation: saved?.generation ?? 0,
          engines: { cmq, pulsar: apiHandler.pulsar, rocketmq },
          snapshot: () => ({
            cmq: cmq.snapshot(),
            api: apiHandler.snapshot(),
            rocketmq: rocketmq.snapshot(),
          }),
          ...(options.stateFsync !== undefined ? { fsync: options.stateFsync } : {}),
        });
  if (journal !== undefined) {
    journal.replay();
    // Start from a snapshot of everything replayed, with an empty journal.
    journal.compact();
    cmq.changes = journal.sinkFor('cmq');
    apiHandler.pulsar.changes = journal.sinkFor('pulsar');
    rocketmq.changes = journal.sinkFor('rocketmq');
  }
  const commit =
    journal === undefined
      ? undefined
      : (protocol: string, action: string) => commitRequest(journal, protocol, action);
  const adminToken = options.adminToken ?? randomBytes(24).toString('base64url');
  const credentialStore = new CredentialStore(credentials, authClock);
  const inspect = withAdminRoutes(
    () => ({
      cmq: cmqHandler.inspect(),
      api: apiHandler.inspect(),
      rocketmq: rocketmq.inspect(),
      remoting: remotingServer?.inspect(),
    }),
    [...rocketMqAdminRoutes(rocketmq), ...credentialAdminRoutes(credentialStore)],
  );
  const servers: ProtocolServer[] = [];
  let rocketServer: RocketMqServer | undefined;
  let remotingServer: RemotingServer | undefined;
  try {
    servers.push(
      await createProtocolServer(cmqHandler, {
        host,
        port: options.cmqPort ?? 0,
        faults,
        inspect,
        adminToken,
        ...(commit ? { commit } : {}),
      }),
    );
    servers.push(
      await createProtocolServer(apiHandler, {
        host,
        port: options.apiPort ?? 0,
        faults,
        inspect,
        adminToken,
        ...(commit ? { commit } : {}),
      }),
    );
    rocketServer = await startRocketMqServer({
      ...(authWindow !== undefined ? { dateWindowSeconds: authWindow } : {}),
      ...(offset !== 0 ? { now: authClock.now } : {}),
      ...rocketOptions,
      engine: rocketmq,
      credentials,
      host,
      port: options.rocketmqPort ?? 0,
      faults,
      ...(commit ? { commit: (action: string) => commit('rocketmq', action) } : {}),
    });
    remotingServer = await startRemotingServer({
      ...(offset !== 0 ? { now: authClock.now } : {}),
      ...options.remoting,
      engine: rocketmq,
      credentials,
      allowAnonymous: rocketOptions.allowAnonymous ?? false,
      host,
      port: options.remotingPort ?? 0,
      faults,
      ...(commit ? { commit: (action: string) => commit('rocketmq', action) } : {}),
    });
  } catch (error) {
    await rocketServer?.close();
    await Promise.all(servers.map((s) => s.close()));
    journal?.seal();
    cmq.close();
    rocketmq.close();
    throw error;
  }
  const [cmqServer, apiServer] = servers as [ProtocolServer, ProtocolServer];
  const rocket: RocketMqServer = rocketServer!;
  const remoting: RemotingServer = remotingServer!;

  // Compaction keeps the journal short; changes are durable before their replies without it.
  const timer =
    journal === undefined
      ? undefined
      : setInterval(() => {
          try {
            if (journal.pending) journal.compact();
          } catch (error) {
            process.emitWarning(`emulator state not compacted: ${String(error)}`);
          }
        }, options.stateIntervalMs ?? 5000);
  timer?.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoints: {
      cmq: cmqServer.url,
      api: apiServer.url,
      rocketmq: rocket.endpoint,
      remoting: remoting.endpoint,
    },
    credentials,
    issueCredential: (issue) => credentialStore.issue(issue),
    revokeCredential: (secretId) => credentialStore.revoke(secretId),
    adminToken,
    faults,
    remoting,
    engines: { cmq, pulsar: apiHandler.pulsar, rocketmq },
    telemetryClosed: () => rocket.telemetryClosed(),
    stop() {
      stopping ??= (async () => {
        if (timer) clearInterval(timer);
        // Stop serving first, so nothing is confirmed after the final snapshot. The RocketMQ side
        // goes first: it ends Telemetry streams and long polls gracefully.
        await remoting.close();
        await rocket.close();
        await Promise.all(servers.map((s) => s.close()));
        try {
          journal?.compact();
        } finally {
          journal?.seal();
          cmq.close();
          rocketmq.close();
        }
      })();
      return stopping;
    },
  };
}
