// CMQ management and send/publish over the Tencent Cloud API (TDMQ 2020-02-17), on the same
// CmqEngine the CMQ HTTP endpoint uses, so a queue created here is consumable there and vice versa.
// Response shapes follow tdmq_models.d.ts (CmqQueue, CmqTopic, CmqSubscription); times are Unix ms
// as the fact sheet §4.3 says. A few attributes exist only in this API (Tags, Trace, Transaction,
// RetentionSizeInMB, a topic's MsgRetentionSeconds); they are kept beside the engine, keyed by the
// resource id so a resource re-created through the CMQ HTTP side does not inherit stale values.
//
// Queue actions are in actions-cmq-queues.ts, topic and subscription actions in
// actions-cmq-topics.ts, what they share in cmq-context.ts; the two message actions are here.

import { type ActionDef, invalidValue } from './action.js';
import { cmqQueueActions } from './actions-cmq-queues.js';
import { cmqTopicActions } from './actions-cmq-topics.js';
import type { CmqContext } from './cmq-context.js';
import { arr, reqInt, reqStr } from './params.js';

export { type CmqContext, CmqExtras, cmqErrorToApi } from './cmq-context.js';

export const cmqActions: Record<string, ActionDef<CmqContext>> = {
  ...cmqQueueActions,
  ...cmqTopicActions,
  SendCmqMsg: {
    schema: { QueueName: 'String!', MsgContent: 'String!', DelaySeconds: 'Integer!' },
    run(p, ctx) {
      const { msgId } = ctx.cmq.sendMessage(reqStr(p, 'QueueName'), reqStr(p, 'MsgContent'), {
        delaySeconds: reqInt(p, 'DelaySeconds'),
      });
      return { Result: true, MsgId: msgId };
    },
  },

  PublishCmqMsg: {
    schema: { TopicName: 'String!', MsgContent: 'String!', MsgTag: 'String[]' },
    run(p, ctx) {
      const topic = reqStr(p, 'TopicName');
      const tags = arr<string>(p, 'MsgTag') ?? [];
      // MsgTag carries tags for tag-filtered topics and the single routing key for FilterType 2.
      const routing = ctx.cmq.getTopicAttributes(topic).filterType === 2;
      if (routing && tags.length > 1) throw invalidValue('MsgTag', 'a routing-key topic takes one route key');
      const { msgId } = ctx.cmq.publishMessage(
        topic,
        reqStr(p, 'MsgContent'),
        routing ? (tags[0] !== undefined ? { routingKey: tags[0] } : {}) : { tags },
      );
      return { Result: true, MsgId: msgId };
    },
  },
};
