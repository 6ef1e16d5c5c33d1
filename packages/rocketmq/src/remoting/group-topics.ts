// One topic per consumer group in this process. A 4.x group shares its queues among the client ids
// the broker lists for the group, whatever each member subscribes: two members of one group on
// different topics each get a share of the other's queues and never pull them, so half of each
// topic's messages would wait for a member that does not exist (and the group's single
// %RETRY%<group> topic would hand one topic's retries to the other's handler). The Java client
// forbids it the same way (one consumer object per group); Switchyard consumes one topic per
// consumer, so a second topic for a group is refused up front, with the fix in the message.

import { InvalidArgumentError } from '@switchyard/core/driver';

/** A group and topic by their wire names, and as the caller named them (for the error). */
export interface GroupTopic {
  readonly group: string;
  readonly topic: string;
  readonly groupName: string;
  readonly topicName: string;
}

export class GroupTopics {
  readonly #claims = new Map<string, { topic: string; topicName: string; count: number }>();

  /** Claims the group for the topic; the returned function releases the claim (once). */
  claim({ group, topic, groupName, topicName }: GroupTopic, driver: string): () => void {
    const held = this.#claims.get(group);
    if (held !== undefined && held.topic !== topic) {
      throw new InvalidArgumentError(
        `consumer group "${groupName}" already consumes topic "${held.topicName}" in this process, and a RocketMQ ` +
          `4.x group must subscribe the same topic in every member (the broker shares its queues among all ` +
          `members, whatever they subscribe, so messages of "${topicName}" would wait for a member that never ` +
          `pulls them): use one group per topic, e.g. "${groupName}-${topicName}"`,
        { driver },
      );
    }
    if (held === undefined) this.#claims.set(group, { topic, topicName, count: 1 });
    else held.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const claim = this.#claims.get(group);
      if (claim !== undefined && --claim.count === 0) this.#claims.delete(group);
    };
  }
}
