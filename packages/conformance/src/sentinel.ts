// A sentinel secret and a capture of everything a test file prints, logs, emits or throws, to prove
// the sentinel never shows up (issue 9: "a sentinel secret used as every credential in a full pass
// of the conformance and bad-input suites never appears in any log line, error message, stack,
// util.inspect or JSON output"). The conformance runs and the bad-input suite use the sentinel as
// every credential themselves, so this costs no second pass.
//
// A file creates one capture with sentinelLeakCheck() at its top level: that installs the hooks
// (process.stdout/stderr.write, console.*) before its first test, hands out a pino-shaped logger
// and a status-event watcher for its brokers, takes every error the tests catch, and at the end of
// the file fails if any captured text contained the sentinel in any of its forms (raw, the random
// core alone, URL-encoded, JSON- and inspect-escaped, base64 and base64url at every alignment,
// hex), naming the channel and the test where it showed up.

import { randomBytes } from 'node:crypto';
import { format, inspect } from 'node:util';
import type { Broker, Logger } from '@switchyard/core';
import { afterAll, beforeAll, expect } from 'vitest';

const PREFIX = 'SY-SENTINEL-';
/**
 * After the random core: characters that make the derived forms differ from the raw value (`%` for
 * URL encoding, `"` and `\` for JSON and util.inspect escaping, `'` for inspect's quoting) while
 * staying legal in every credential slot the drivers fill: AMQP PLAIN passwords, HMAC keys, gRPC
 * metadata (printable ASCII, no `,` or `/`, which RocketMQ's Credential= field splits on), and
 * rabbitmqctl's argument quoting (no backslash at the end).
 */
const TAIL = `%"'\\`;

export interface SentinelForm {
  /** 'raw', 'core', 'url-encoded', 'json-escaped', 'base64@1', ... */
  readonly form: string;
  readonly text: string;
}

/** One run's sentinel values: the primary credential and any further ones (wrong passwords, ...). */
export class Sentinel {
  /** The primary sentinel: use it as every credential (password, secretKey, token, role). */
  readonly value: string;
  readonly #values: string[] = [];
  #forms: SentinelForm[] | undefined;

  constructor() {
    this.value = this.another();
  }

  /**
   * Another distinctive value, searched for like the primary one: a wrong password, a role token
   * beside a role name, or a credential that must not be registered as a Secret beforehand (to
   * prove a code path scrubs text without help from the registry).
   */
  another(tag = ''): string {
    // The tail goes before the tag: a trailing backslash would break rabbitmqctl's shell wrapper.
    const value = `${PREFIX}${randomBytes(8).toString('hex')}${TAIL}-${tag === '' ? 'end' : tag}`;
    this.#values.push(value);
    this.#forms = undefined;
    return value;
  }

  get values(): readonly string[] {
    return this.#values;
  }

  /** Every form of every value that a leak could take, longest first. */
  get forms(): readonly SentinelForm[] {
    this.#forms ??= this.#values
      .flatMap((value, i) => derivedForms(value).map((f) => ({ form: `${f.form}#${i}`, text: f.text })))
      .filter((f, i, all) => all.findIndex((g) => g.text === f.text) === i)
      .sort((a, b) => b.text.length - a.text.length);
    return this.#forms;
  }

  /** The first form found in text, or undefined. */
  find(text: string): { form: SentinelForm; index: number } | undefined {
    for (const form of this.forms) {
      const index = text.indexOf(form.text);
      if (index >= 0) return { form, index };
    }
    return undefined;
  }

  /** The text with every form replaced by a marker: safe to print in a report. */
  mask(text: string): string {
    let out = text;
    for (const form of this.forms) out = out.split(form.text).join(`<SENTINEL:${form.form}>`);
    return out;
  }
}

function derivedForms(value: string): SentinelForm[] {
  const core = value.slice(PREFIX.length, PREFIX.length + 16);
  const bytes = Buffer.from(value, 'utf8');
  const forms: SentinelForm[] = [
    { form: 'raw', text: value },
    // Any rendering that keeps the random part (partial redaction, other escapings) still has it.
    { form: 'core', text: core },
    { form: 'url-encoded', text: encodeURIComponent(value) },
    { form: 'form-encoded', text: new URLSearchParams({ v: value }).toString().slice(2) },
    { form: 'json-escaped', text: JSON.stringify(value).slice(1, -1) },
    { form: 'inspect-escaped', text: inspect(value).slice(1, -1) },
    { form: 'hex', text: bytes.toString('hex') },
    { form: 'HEX', text: bytes.toString('hex').toUpperCase() },
  ];
  // base64 of any text containing the value: the characters fully determined by the value's bytes
  // at each of the three alignments (e.g. a Basic auth header "user:password").
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const groups = Math.floor((shift + bytes.length) / 3);
    const stable = b64.slice(shift === 0 ? 0 : 4, groups * 4);
    forms.push({ form: `base64@${shift}`, text: stable });
    forms.push({ form: `base64url@${shift}`, text: stable.replaceAll('+', '-').replaceAll('/', '_') });
  }
  return forms.filter((f) => f.text.length >= 12);
}

export interface LeakFinding {
  readonly channel: string;
  /** The test (or hook) that was running. */
  readonly where: string;
  readonly form: string;
  /** Up to 200 characters around the hit, the sentinel masked. */
  readonly context: string;
}

export interface LeakCounts {
  /** Lines written to stdout/stderr and console calls. */
  lines: number;
  /** Logger calls (every level). */
  logs: number;
  /** Status events of watched brokers. */
  statusEvents: number;
  /** Errors checked (each with its cause chain). */
  errors: number;
  /** Other texts handed to text(): child-process output, warnings. */
  texts: number;
  /** Characters searched. */
  chars: number;
}

type Write = typeof process.stdout.write;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const;

/** Captures and searches everything; see the file comment. */
export class LeakCapture {
  readonly sentinel: Sentinel;
  readonly label: string;
  readonly findings: LeakFinding[] = [];
  readonly counts: LeakCounts = { lines: 0, logs: 0, statusEvents: 0, errors: 0, texts: 0, chars: 0 };
  readonly #restore: Array<() => void> = [];
  readonly #watched = new WeakSet<object>();
  #scanning = false;

  constructor(sentinel: Sentinel, label: string) {
    this.sentinel = sentinel;
    this.label = label;
  }

  /** A pino-shaped logger recording every call (pass it as `logger` in broker configs). */
  readonly logger: Logger = Object.freeze({
    debug: (object: object, message?: string) => this.#log('debug', object, message),
    info: (object: object, message?: string) => this.#log('info', object, message),
    warn: (object: object, message?: string) => this.#log('warn', object, message),
    error: (object: object, message?: string) => this.#log('error', object, message),
  });

  install(): void {
    if (this.#restore.length > 0) return;
    for (const stream of [process.stdout, process.stderr]) {
      const channel = stream === process.stdout ? 'stdout' : 'stderr';
      const original = stream.write;
      const capture = this;
      const write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
        capture.#lines(channel, chunk);
        return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as Write;
      stream.write = write;
      this.#restore.push(() => {
        if (stream.write === write) stream.write = original;
      });
    }
    for (const method of CONSOLE_METHODS) {
      const original = console[method] as (...args: unknown[]) => void;
      const wrapped = (...args: unknown[]) => {
        this.#consoleCall(method, args);
        original.apply(console, args);
      };
      console[method] = wrapped;
      this.#restore.push(() => {
        if (console[method] === wrapped) console[method] = original;
      });
    }
  }

  uninstall(): void {
    for (const restore of this.#restore.splice(0).reverse()) restore();
  }

  /** Records the broker's status events (their errors included); returns the broker. */
  watch<B extends Broker>(broker: B): B {
    if (this.#watched.has(broker)) return broker;
    this.#watched.add(broker);
    broker.onStatus((event) => {
      this.counts.statusEvents++;
      this.#scan(
        `status event (${event.type})`,
        safe(() => inspect(event, { depth: Infinity })),
      );
      this.#scan(
        `status event (${event.type}) JSON`,
        safe(() => JSON.stringify(event)),
      );
      if ('error' in event && event.error !== undefined) this.error(event.error, `status ${event.type}`);
    });
    return broker;
  }

  /**
   * Checks an error the way anything might print it: message, String(), stack, util.inspect at
   * full depth, JSON.stringify, and the same for every error on its cause chain (which is what a
   * logger's error serializer walks).
   */
  error(error: unknown, channel = 'error'): void {
    this.counts.errors++;
    let current: unknown = error;
    for (let depth = 0; current !== undefined && current !== null && depth < 16; depth++) {
      const at = depth === 0 ? channel : `${channel} cause[${depth}]`;
      if (current instanceof Error) {
        this.#scan(`${at} message`, current.message);
        this.#scan(
          `${at} String()`,
          safe(() => String(current)),
        );
        this.#scan(`${at} stack`, current.stack ?? '');
      }
      this.#scan(
        `${at} util.inspect`,
        safe(() => inspect(current, { depth: Infinity })),
      );
      this.#scan(
        `${at} JSON.stringify`,
        safe(() => JSON.stringify(current) ?? ''),
      );
      if (typeof current !== 'object') break;
      const errors = (current as { errors?: unknown }).errors;
      if (Array.isArray(errors)) for (const e of errors) this.error(e, `${at} errors[]`);
      current = (current as { cause?: unknown }).cause;
    }
  }

  /**
   * A native object handed out by an escape hatch (`broker.unwrap()`, `producer.unwrap()`, ...),
   * searched the way a service might print it: util.inspect at full depth, with hidden
   * (non-enumerable) fields and without, and JSON.stringify where it serialises.
   */
  native(value: unknown, channel = 'unwrap()'): void {
    this.counts.texts++;
    this.#scan(
      `${channel} util.inspect`,
      safe(() => inspect(value, { depth: Infinity })),
    );
    this.#scan(
      `${channel} util.inspect showHidden`,
      safe(() => inspect(value, { depth: 8, showHidden: true })),
    );
    this.#scan(
      `${channel} JSON.stringify`,
      safe(() => JSON.stringify(value) ?? ''),
    );
  }

  /** Any other text (a child process's output, a warning). */
  text(text: string, channel: string): void {
    this.counts.texts++;
    this.#scan(channel, text);
  }

  /**
   * Awaits a promise that must reject and records the error; use it instead of
   * `expect(p).rejects` so the error is searched too.
   */
  async rejection(
    promise: Promise<unknown> | (() => Promise<unknown>),
    channel = 'rejection',
  ): Promise<unknown> {
    const settled = await (typeof promise === 'function' ? promise() : promise).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (settled.ok) throw new Error('expected a rejection, the promise resolved');
    this.error(settled.error, channel);
    return settled.error;
  }

  /** One line for the test output: what was searched and whether anything matched. */
  summary(): string {
    const c = this.counts;
    return (
      `sentinel check (${this.label}): ${this.sentinel.values.length} sentinel value(s), ` +
      `${this.sentinel.forms.length} forms; searched ${c.lines} output lines, ${c.logs} log calls, ` +
      `${c.statusEvents} status events, ${c.errors} errors (with cause chains), ${c.texts} other texts ` +
      `(${c.chars} chars): ${this.findings.length === 0 ? 'no match' : `${this.findings.length} MATCHES`}`
    );
  }

  /** Fails, listing where the sentinel showed up (masked), if it showed up anywhere. */
  assertClean(): void {
    if (this.findings.length === 0) return;
    const list = this.findings
      .slice(0, 20)
      .map((f) => `- ${f.channel} in "${f.where}" (${f.form}): ${f.context}`)
      .join('\n');
    expect.fail(
      `the sentinel secret appeared ${this.findings.length} time(s) in captured output:\n${list}` +
        (this.findings.length > 20 ? `\n... and ${this.findings.length - 20} more` : ''),
    );
  }

  #log(level: string, object: object, message?: string): void {
    this.counts.logs++;
    const channel = `logger.${level}`;
    this.#scan(channel, message ?? '');
    this.#scan(
      `${channel} fields`,
      safe(() => inspect(object, { depth: Infinity })),
    );
    this.#scan(
      `${channel} fields JSON`,
      safe(() => JSON.stringify(object) ?? ''),
    );
  }

  #lines(channel: string, chunk: unknown): void {
    const text =
      typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString() : '';
    this.counts.lines += Math.max(1, text.split('\n').length - 1);
    this.#scan(channel, text);
  }

  #consoleCall(method: string, args: unknown[]): void {
    this.counts.lines++;
    this.#scan(
      `console.${method}`,
      safe(() => format(...args)),
    );
    for (const arg of args) if (arg instanceof Error) this.error(arg, `console.${method} error`);
  }

  #scan(channel: string, text: string): void {
    // A report printed while scanning (or console output of the scan itself) is not scanned again.
    if (this.#scanning || text === '') return;
    this.#scanning = true;
    try {
      this.counts.chars += text.length;
      const hit = this.sentinel.find(text);
      if (hit === undefined) return;
      const start = Math.max(0, hit.index - 80);
      this.findings.push({
        channel,
        where: currentTest(),
        form: hit.form.form,
        context: this.sentinel
          .mask(text.slice(start, hit.index + hit.form.text.length + 80))
          .replace(/\s+/g, ' '),
      });
    } finally {
      this.#scanning = false;
    }
  }
}

function safe(render: () => string): string {
  try {
    return render();
  } catch (error) {
    return `[render failed: ${error instanceof Error ? error.message : 'unknown'}]`;
  }
}

function currentTest(): string {
  try {
    return expect.getState().currentTestName ?? '(hook)';
  } catch {
    return '(outside a test)';
  }
}

/**
 * One sentinel and one capture for a test file: call it at the top level of the file, before any
 * describe. It installs the hooks before the file's first test and, after its last hook, uninstalls
 * them, prints the summary line and fails if the sentinel showed up anywhere.
 */
export function sentinelLeakCheck(label: string, sentinel = new Sentinel()): LeakCapture {
  const capture = new LeakCapture(sentinel, label);
  beforeAll(() => capture.install());
  afterAll(() => {
    capture.uninstall();
    console.log(capture.summary());
    capture.assertClean();
  });
  return capture;
}
