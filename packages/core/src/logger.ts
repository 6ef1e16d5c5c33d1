/**
 * A pino-compatible logger shape: `logger.warn({ destination }, 'message')`. Silent by default;
 * pass a pino instance (or anything with these four methods) as `logger` in the broker config.
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
