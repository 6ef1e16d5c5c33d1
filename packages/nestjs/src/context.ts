import { BaseRpcContext } from '@nestjs/microservices';
import type { Message } from '@switchyard/core';

/**
 * The context a Switchyard handler gets (`@Ctx() ctx: SwitchyardContext`): the Switchyard message
 * (headers, key, delivery attempt, the native message through unwrap()), the pattern, and manual
 * settling for servers with `noAck: false`.
 */
export class SwitchyardContext extends BaseRpcContext<[Message, string]> {
  getMessage(): Message {
    return this.args[0];
  }

  getPattern(): string {
    return this.args[1];
  }

  /** Acknowledges the message (idempotent: a second settle is a no-op). */
  ack(): Promise<void> {
    return this.args[0].ack();
  }

  /** Gives the message back for redelivery, after `delayMs` where the flavour can. */
  nack(options: { delayMs?: number } = {}): Promise<void> {
    return this.args[0].nack(options);
  }
}
