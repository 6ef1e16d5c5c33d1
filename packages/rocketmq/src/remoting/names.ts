// The Apache 4.x clients check topic and group names before they send anything (Validators,
// TopicValidator): a 4.x broker stores them in file names and config keys, and answers a bad one
// with a bare SYSTEM_ERROR or, for a name it cannot route, "topic not found" — which would send a
// user looking for a missing topic instead of a typo. Checked on the wire name (namespace included).

import { InvalidArgumentError } from '@switchyard/core/driver';
import { DRIVER } from '../errors.js';

const VALID = /^[%|a-zA-Z0-9_-]+$/;
const MAX_LENGTH = { topic: 127, group: 255 } as const;

export function validateWireName(kind: 'topic' | 'group', name: string): string {
  const max = MAX_LENGTH[kind];
  if (!VALID.test(name) || name.length > max) {
    throw new InvalidArgumentError(
      `RocketMQ ${kind} name "${name}" is not allowed on the Remoting transport: use letters, digits, "_", "-" (with "|" and "%" only from the cluster|namespace% prefix), at most ${max} characters in all`,
      { driver: DRIVER, details: { [kind]: name } },
    );
  }
  return name;
}
