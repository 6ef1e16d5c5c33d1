// Exit codes scripts can rely on. Every failure maps to one through the error's portable code.

import { errorCode, isSwitchyardError } from '@switchyard/core';

/** The exit codes of the `switchyard` command, by name. */
export const ExitCode = {
  /** Everything worked. */
  OK: 0,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  USAGE: 1,
  /** Bad configuration: malformed URL, unknown scheme or driver, missing or invalid config file, unknown binding, missing environment variable, missing driver package. */
  CONFIG: 2,
  /** Cannot reach or log in to the broker: connection refused or lost, timeout, wrong credentials, no permission. */
  CONNECTION: 3,
  /** The destination, source or group does not exist on the broker. */
  NOT_FOUND: 4,
  /** The broker or the destination's driver refused a message or request: unsupported feature, invalid or too large message, limits. */
  REJECTED: 5,
  /** A bridge or multi-message send finished with some messages not transferred (they stay at the source). */
  PARTIAL: 6,
  /** `doctor` found a problem it could not classify further (each check prints its own diagnosis). */
  DOCTOR: 7,
  /** An unexpected internal error (a bug: please report it). */
  INTERNAL: 10,
  /** Stopped by SIGINT or SIGTERM after a clean shutdown (nothing lost). */
  INTERRUPTED: 130,
} as const;
/** One of the ExitCode values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for an error. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.USAGE;
  if (!isSwitchyardError(error)) return ExitCode.INTERNAL;
  switch (errorCode(error)) {
    case 'CONFIG':
      return ExitCode.CONFIG;
    case 'UNAVAILABLE':
    case 'TIMEOUT':
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
    case 'CLOSED':
      return ExitCode.CONNECTION;
    case 'NOT_FOUND':
      return ExitCode.NOT_FOUND;
    case 'INVALID_ARGUMENT':
    case 'UNSUPPORTED':
    case 'MESSAGE_TOO_LARGE':
    case 'ALREADY_EXISTS':
    case 'RESOURCE_EXHAUSTED':
      return ExitCode.REJECTED;
    default:
      return ExitCode.INTERNAL;
  }
}

/** A command-line mistake (exit 1). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
