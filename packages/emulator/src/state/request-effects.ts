// Which requests the journal's unit records cover. Sends, receives and acks change only messages
// and cursors, which the engines report as units; every other action (create, delete, settings,
// subscriptions, rewinds, the API's own queue attributes) may change what no unit expresses, so
// it is followed by a full snapshot. An action missing from both lists costs a snapshot, never a
// lost change: that is why the list names what is cheap rather than what is expensive.

import type { StateJournal } from './journal.js';

const UNIT_ONLY = new Set([
  // CMQ HTTP
  'cmq:SendMessage',
  'cmq:BatchSendMessage',
  'cmq:ReceiveMessage',
  'cmq:BatchReceiveMessage',
  'cmq:DeleteMessage',
  'cmq:BatchDeleteMessage',
  'cmq:PublishMessage',
  'cmq:BatchPublishMessage',
  'cmq:GetQueueAttributes',
  'cmq:ListQueue',
  'cmq:GetTopicAttributes',
  'cmq:ListTopic',
  'cmq:GetSubscriptionAttributes',
  'cmq:ListSubscriptionByTopic',
  // An action the handler does not know changes nothing.
  'cmq:unknown',
  'api:unknown',
  // Tencent Cloud API 3.0
  'api:SendCmqMsg',
  'api:PublishCmqMsg',
  'api:SendMessages',
  'api:SendBatchMessages',
  'api:ReceiveMessage',
  'api:AcknowledgeMessage',
  'api:DescribeCmqQueues',
  'api:DescribeCmqQueueDetail',
  'api:DescribeCmqTopics',
  'api:DescribeCmqTopicDetail',
  'api:DescribeCmqSubscriptionDetail',
  'api:DescribeClusters',
  'api:DescribeEnvironments',
  'api:DescribeTopics',
  'api:DescribeSubscriptions',
]);

/**
 * Called after a request was served and before its reply is written: makes its effects durable.
 * RocketMQ RPCs are all unit-only (topic and group auto-creation report themselves).
 */
export function commitRequest(journal: StateJournal, protocol: string, action: string): void {
  if (protocol !== 'rocketmq' && !UNIT_ONLY.has(`${protocol}:${action}`)) journal.markReshaped();
  journal.commit();
}
