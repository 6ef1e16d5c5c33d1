import type { OutgoingMessage } from '@switchyard/core';
import { encodeBody, InvalidArgumentError, newMessageId, validateName } from '@switchyard/core/driver';
import { tableName } from './schema.js';
import type { Queryable } from './sql-client.js';
import { storeError } from './store-errors.js';
import { traceHeaders } from './trace-context.js';

/**
 * A message to publish once the transaction that adds it commits: a message as `send()` takes it
 * plus its destination. Rows with the same `orderingKey` (else `key`) are published in the order
 * they were added; `id` (generated when absent) is kept on every republish, so an idempotent
 * consumer can drop the copies a crash leaves. No `delayMs`: the relay publishes when it claims.
 */
export type OutboxMessage = Omit<OutgoingMessage, 'delayMs'> & {
  /** The portable destination name the relay's broker sends to (as for `broker.producer()`). */
  destination: string;
};

export interface OutboxOptions {
  /** Table name (default `switchyard_outbox`), as given to ensureOutboxSchema(). */
  table?: string;
}

/** Writes messages to the outbox table inside the caller's transaction. */
export class Outbox {
  readonly table: string;
  readonly #insert: string;

  constructor(options: OutboxOptions = {}) {
    this.table = tableName(options.table);
    this.#insert = `INSERT INTO ${this.table}
      (destination, message_id, body, content_type, headers, key, keys, tags, routing_key, ordering_key, lane)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`;
  }

  /**
   * Adds a message with `tx`, the pg client that holds the caller's open transaction (BEGIN
   * issued): the message exists if and only if that transaction commits. Resolves to its id
   * (also the message id on the wire). The outbox never begins or commits: that is the caller's.
   */
  async add(tx: Queryable, message: OutboxMessage): Promise<string> {
    const row = this.#row(message);
    try {
      await tx.query(this.#insert, row);
    } catch (error) {
      throw storeError(error, `adding a message for "${message.destination}"`, this.table);
    }
    return row[1] as string;
  }

  #row(message: OutboxMessage): unknown[] {
    if (typeof message !== 'object' || message === null) {
      throw new InvalidArgumentError('outbox message must be an object with a destination and a body');
    }
    const destination = validateName(message.destination, 'destination');
    if ('delayMs' in message) {
      throw new InvalidArgumentError(
        'outbox messages cannot carry delayMs: the relay publishes when the row is claimed; send delayed messages directly, or store the due time in the body',
      );
    }
    const { bytes, contentType } = encodeBody(message.body, message.contentType);
    const headers = { ...traceHeaders(), ...message.headers };
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') {
        throw new InvalidArgumentError(
          `outbox message header "${name}" must be a string, got ${typeof value}`,
        );
      }
    }
    const id = message.id ?? newMessageId();
    const lane = message.orderingKey ?? message.key ?? null;
    return [
      destination,
      id,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      contentType,
      JSON.stringify(headers),
      message.key ?? null,
      message.keys === undefined ? null : JSON.stringify(message.keys),
      message.tags === undefined ? null : JSON.stringify(message.tags),
      message.routingKey ?? null,
      message.orderingKey ?? null,
      lane,
    ];
  }
}
