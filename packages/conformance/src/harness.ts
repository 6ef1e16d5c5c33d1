import type { Broker, Capabilities } from '@switchyard/core';
import type { PoisonResult } from './scenarios-poison.js';
import type { LeakCapture } from './sentinel.js';

/**
 * What a driver supplies to run the suite (gocloud's drivertest.Harness). One harness serves the
 * whole suite; every scenario makes its own destinations with fresh names.
 */
export interface ConformanceHarness {
  /** A new connection to the system under test. */
  connect(): Promise<Broker>;
  /** Makes a destination producers send to and consumers read from, under this fresh name. */
  createDestination(name: string): Promise<void>;
  /** Removes it again (best effort). */
  deleteDestination?(name: string): Promise<void>;
  /** A name that is valid but does not exist, for NOT_FOUND checks; omit if sends auto-create. */
  nonexistentDestination?(): string;
  /**
   * Every credential the harness used, to prove no error text contains one. With `leakCheck`, the
   * sentinel's values must be among them (the suite checks that the run really used it).
   */
  readonly secrets?: readonly string[];
  /**
   * A connection with a wrong credential (a sentinel value too, when the file has a sentinel
   * capture) for the secret scenario: its first producer or send must fail with UNAUTHENTICATED.
   */
  connectWithWrongCredentials?(): Promise<Broker>;
  /** Restarts the broker, for the restart scenario (optional). */
  restart?(): Promise<void>;
  /**
   * Takes the broker away until the returned function is called (optional), for the health
   * scenario: requests and connections must fail meanwhile, as when the broker is down.
   */
  outage?(): Promise<() => Promise<void>>;
  /**
   * Messages the broker still holds for `group` on `destination` (ready, delayed or leased), read
   * from the broker's side. Where given, the poison scenario ends its watch for stray redeliveries
   * when this reaches 0 (nothing left can come back) instead of after twice the lease, so a lease
   * long enough for a starved machine costs the suite nothing.
   */
  held?(destination: string, group: string): Promise<number>;
  close(): Promise<void>;
}

export interface NativeChecks {
  /** True when broker.unwrap() is the driver's native client. */
  broker(native: unknown): boolean;
  /** True when message.unwrap() is the driver's native message. */
  message(native: unknown): boolean;
}

export interface ConformanceOptions {
  /** Suite name, e.g. 'memory' or 'rabbitmq (quorum queues)'. */
  readonly name: string;
  /** The capabilities of the brokers harness.connect() returns: gates the scenarios. */
  readonly capabilities: Readonly<Capabilities>;
  readonly harness: () => Promise<ConformanceHarness>;
  readonly native: NativeChecks;
  /**
   * Multiplies the suite's waits for brokers whose timers are coarse (e.g. CMQ's second-granular
   * visibility). Default 1.
   */
  readonly timeScale?: number;
  /** Shortest visibility timeout the broker honours, ms (default 1000). */
  readonly minVisibilityMs?: number;
  /**
   * How many consumers of one group take messages at a time: `all` (default: competing consumers
   * share the load) or `one` (a failover subscription: one active consumer, the others stand by).
   * Either way each message goes to the group once.
   */
  readonly activeConsumersPerGroup?: 'all' | 'one';
  /**
   * The file's sentinel capture (sentinelLeakCheck()): the harness uses the sentinel as every
   * credential and the capture's logger; the suite watches every broker's status events, records
   * every error it catches or asserts on, and ends with a check that nothing contained the sentinel.
   */
  readonly leakCheck?: LeakCapture;
  /**
   * Whether the suite runs the service-pattern scenarios (batch handlers, flow control,
   * CloudEvents, request-reply, health); default true. A flavour tested in several variants (models,
   * nack modes) runs them in the variants that differ in what the patterns see — body mode and
   * defaults — and leaves them out of the rest, whose nack, dead-letter and routing paths the other
   * scenarios cover: the patterns add nothing there but minutes of CI.
   */
  readonly patterns?: boolean;
  /** Receives what each poison run measured, with this suite's name and capabilities. */
  readonly onPoison?: (result: PoisonResult, suite: ConformanceOptions) => void | Promise<void>;
}
