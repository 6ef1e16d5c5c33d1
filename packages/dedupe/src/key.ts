import { InvalidArgumentError, type Message } from '@switchyard/core';

export type KeyFunction = (message: Message) => string;

/**
 * The user's key function, checked: an empty or non-string key would merge unrelated messages
 * (or none), so it fails the delivery (not retryable) instead of deduplicating wrongly.
 */
export function checkedKey(keyOf: KeyFunction | undefined): KeyFunction {
  if (keyOf === undefined) return (message) => message.id;
  return (message) => {
    const key: unknown = keyOf(message);
    if (typeof key !== 'string' || key.length === 0)
      throw new InvalidArgumentError(
        `the dedup key function returned ${key === '' ? 'an empty string' : typeof key} for message ${message.id}; return a non-empty string (the message id or a business key)`,
      );
    return key;
  };
}
