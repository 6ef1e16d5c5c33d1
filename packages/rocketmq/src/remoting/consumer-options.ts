// What a Remoting consumer takes in the portable `driverOptions`: the 4.x message model. Checked
// with a schema so a misspelt option fails with its name instead of being ignored.

import { InvalidArgumentError, parseWithSchema } from '@switchyard/core/driver';
import { z } from 'zod';

const schema = z.strictObject({
  /**
   * `clustering` (default): the group's members split the queues, offsets live on the broker,
   * failures go to %RETRY%/%DLQ%. `broadcasting`: every member gets every message, keeps its
   * offsets in this process, and a nack or an expired lease redelivers here.
   */
  messageModel: z.enum(['clustering', 'broadcasting']).default('clustering'),
});

export type RemotingConsumerDriverOptions = z.infer<typeof schema>;

export function parseConsumerDriverOptions(
  input: Readonly<Record<string, unknown>>,
): RemotingConsumerDriverOptions {
  return parseWithSchema(schema, input, 'consumer driverOptions', InvalidArgumentError);
}
