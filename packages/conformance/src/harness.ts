import type { Broker, Capabilities } from '@switchyard/core';

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
  /** Every credential the harness used, to prove no error text contains one. */
  readonly secrets?: readonly string[];
  /** Restarts the broker, for the restart scenario (optional). */
  restart?(): Promise<void>;
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
}
