// Shared by the pulsar-http tests: an emulator, its SDK client, and broker URLs pointing at it.

import http from 'node:http';
import { createRequire } from 'node:module';
import type { ConformanceHarness, LeakCapture, NativeChecks } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { emulatorDown, emulatorOutage } from './emulator-outage.js';

const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

export const CLUSTER = 'pulsar-emulator';

export interface PulsarHttpEnv {
  readonly emulator: RunningEmulator;
  readonly sdk: Client;
  readonly secretId: string;
  readonly secretKey: string;
  url(query?: Record<string, string>): string;
  /** The same as a config object (for options a URL cannot carry, like a logger). */
  config(extra?: Record<string, unknown>): { driver: string } & Record<string, unknown>;
  /** A partitioned topic, as an operator would create it. */
  createTopic(name: string, namespace?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startPulsarHttpEnv(
  options: { secretKey?: string; namespace?: string; retention?: boolean; ackTimeoutMs?: number } = {},
): Promise<PulsarHttpEnv> {
  const secretId = 'AKIDSWITCHYARDTEST';
  const secretKey = options.secretKey ?? 'sk-pulsar-http-test-5f1e0c';
  const emulator = await startEmulator({
    credentials: [{ secretId, secretKey }],
    ...(options.ackTimeoutMs === undefined ? {} : { pulsar: { defaultAckTimeoutMs: options.ackTimeoutMs } }),
  });
  const agent = new http.Agent({ keepAlive: true });
  const host = new URL(emulator.endpoints.api).host;
  const sdk = new TdmqClient({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: host, protocol: 'http://', agent, reqTimeout: 10 } },
  });
  const namespace = options.namespace ?? 'default';
  if (namespace !== 'default') {
    await sdk.CreateEnvironment({
      EnvironmentId: namespace,
      MsgTTL: 3600,
      ClusterId: CLUSTER,
      // Retention keeps acked messages so a new group can start from the earliest one.
      ...(options.retention ? { RetentionPolicy: { TimeInMinutes: 60, SizeInMB: 1024 } } : {}),
    });
  }
  return {
    emulator,
    sdk,
    secretId,
    secretKey,
    url(query = {}) {
      const q = new URLSearchParams({ region: 'ap-guangzhou', cluster: CLUSTER, namespace, ...query });
      return `pulsar-http+http://${encodeURIComponent(secretId)}:${encodeURIComponent(secretKey)}@${host}?${q}`;
    },
    config(extra = {}) {
      return {
        driver: 'pulsar-http',
        region: 'ap-guangzhou',
        cluster: CLUSTER,
        namespace,
        endpoint: host,
        protocol: 'http',
        secretId,
        secretKey,
        ...extra,
      };
    },
    async createTopic(name, ns = namespace) {
      await sdk.CreateTopic({ ClusterId: CLUSTER, EnvironmentId: ns, TopicName: name, Partitions: 2 });
    },
    async close() {
      agent.destroy();
      await emulator.stop();
    },
  };
}

/** broker.unwrap() is the SDK's CommonClient for TDMQ; message.unwrap() carries the Pulsar MessageID. */
export const pulsarHttpNative: NativeChecks = {
  broker: (native) => typeof (native as { request?: unknown })?.request === 'function',
  message: (native) => typeof (native as { messageId?: unknown })?.messageId === 'string',
};

/**
 * A conformance harness that connects by URL (so the SecretKey goes through URL decoding), with the
 * capture's logger in connect()'s options, which a URL cannot carry.
 */
export function urlHarness(
  env: PulsarHttpEnv,
  query: Record<string, string>,
  leaks: LeakCapture,
  wrongKey: string,
): ConformanceHarness {
  const url = env.url(query);
  const key = `:${encodeURIComponent(env.secretKey)}@`;
  return {
    connect: () => connect(url, { logger: leaks.logger }),
    connectWithWrongCredentials: () =>
      connect(url.replace(key, `:${encodeURIComponent(wrongKey)}@`), { logger: leaks.logger }),
    createDestination: (name) => env.createTopic(name),
    secrets: [env.secretKey, wrongKey],
    // An outage of the Cloud API: every request's connection is reset until clients met it.
    restart: () => emulatorOutage(env.emulator, 'api'),
    outage: () => emulatorDown(env.emulator, 'api'),
    close: () => env.close(),
  };
}
