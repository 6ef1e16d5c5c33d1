import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { isCredentialField, redact } from '../secret.js';

const MAX_DEPTH = 4;

/**
 * Wraps a pino-compatible logger so every message and every string field (nested objects and
 * errors included) passes through redact(): known Secret values and URL passwords never reach a
 * log line, whatever a driver or a native client put in it. The silent logger is returned as is.
 */
export function redactingLogger(logger: Logger): Logger {
  if (logger === silentLogger) return logger;
  const wrap =
    (level: keyof Logger) =>
    (object: object, message?: string): void => {
      const fields = scrub(object, 0) as object;
      if (message === undefined) logger[level](fields);
      else logger[level](fields, redact(String(message)));
    };
  return Object.freeze({
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
  });
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[object]';
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: redact(value.message) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.stack !== undefined) out.stack = redact(value.stack);
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (value instanceof URL) return redact(value.href);
  // Class instances (Secret, Date, Buffer, native clients) serialise through their own toJSON /
  // serializers: pass them on untouched rather than walk their internals.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  // A plain string under a credential's name ({ password: '…' }) is hidden whatever its value.
  for (const [key, field] of Object.entries(value))
    out[key] = typeof field === 'string' && isCredentialField(key) ? '[redacted]' : scrub(field, depth + 1);
  return out;
}
