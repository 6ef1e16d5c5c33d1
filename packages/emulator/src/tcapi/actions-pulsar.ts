// TDMQ Pulsar actions (management by ClusterId/EnvironmentId/TopicName, messaging by one topic path).
// Field names, casing (MessageId on send/ack, MessageID on receive) and `###` batch joining follow the
// fact sheet §4.1/§4.2 and the SDK's tdmq_models.d.ts.
//
// Management is in actions-pulsar-topics.ts and actions-pulsar-subscriptions.ts, what the actions
// share in pulsar-params.ts; the messaging actions (one topic path each) are here.

import type { Delivered } from '../pulsar/engine.js';
import { PulsarError } from '../pulsar/errors.js';
import { type ActionContext, type ActionDef, invalidValue } from './action.js';
import { pulsarSubscriptionActions } from './actions-pulsar-subscriptions.js';
import { pulsarTopicActions } from './actions-pulsar-topics.js';
import { int, type Params, reqStr, str } from './params.js';
import { DEFAULT_RECEIVER_QUEUE_SIZE, nonEmpty, range } from './pulsar-params.js';

/** Joins batch-receive ids and payloads; a payload containing it makes the split ambiguous (as on TDMQ). */
export const BATCH_SEPARATOR = '###';

export const pulsarActions: Record<string, ActionDef> = {
  ...pulsarTopicActions,
  ...pulsarSubscriptionActions,
  SendMessages: {
    schema: {
      Topic: 'String!',
      Payload: 'String!',
      StringToken: 'String',
      ProducerName: 'String',
      SendTimeout: 'Integer',
      MaxPendingMessages: 'Integer',
    },
    run: send,
  },

  // One payload per call, exactly like SendMessages: TDMQ's gateway batches many calls into one
  // Pulsar batch behind the scenes, which is invisible here (each message gets its own entry).
  SendBatchMessages: {
    schema: {
      Topic: 'String!',
      Payload: 'String!',
      StringToken: 'String',
      ProducerName: 'String',
      SendTimeout: 'Integer',
      MaxPendingMessages: 'Integer',
      BatchingMaxMessages: 'Integer',
      BatchingMaxPublishDelay: 'Integer',
      BatchingMaxBytes: 'Integer',
    },
    run: send,
  },

  ReceiveMessage: {
    schema: {
      Topic: 'String!',
      SubscriptionName: 'String!',
      ReceiverQueueSize: 'Integer',
      SubInitialPosition: 'String',
      MaxNumMessages: 'Integer',
      MaxNumBytes: 'Integer',
      Timeout: 'Integer',
    },
    async run(p, ctx) {
      const subName = nonEmpty(p, 'SubscriptionName');
      const position = str(p, 'SubInitialPosition') ?? 'Earliest';
      if (position !== 'Earliest' && position !== 'Latest') {
        throw invalidValue('SubInitialPosition', 'Earliest or Latest');
      }
      for (const f of ['ReceiverQueueSize', 'MaxNumMessages', 'MaxNumBytes', 'Timeout']) {
        range(p, f, 0, 2_147_483_647);
      }
      const queue = int(p, 'ReceiverQueueSize') || DEFAULT_RECEIVER_QUEUE_SIZE;
      const maxNum = int(p, 'MaxNumMessages') ?? 0;
      const maxBytes = int(p, 'MaxNumBytes') ?? 0;
      const timeout = int(p, 'Timeout') ?? 0;
      const batch = maxNum > 0 || maxBytes > 0 || timeout > 0;
      const topic = ctx.pulsar.resolve(reqStr(p, 'Topic'));
      const got: Delivered[] = await ctx.pulsar.receive(topic, subName, {
        subInitialPosition: position,
        maxMessages: batch ? Math.min(maxNum > 0 ? maxNum : queue, queue) : 1,
        maxBytes: batch ? maxBytes : 0,
        waitMs: batch && timeout > 0 ? Math.min(timeout, ctx.maxReceiveWaitMs) : ctx.receiveWaitMs,
        returnEarly: !batch,
        signal: ctx.signal,
      });
      if (got.length === 0) {
        throw new PulsarError(
          'FailedOperation.ReceiveTimeout',
          'Receive message timeout, no message, please retry.',
        );
      }
      const common = { AckTopic: ctx.pulsar.topicPath(topic), ErrorMsg: '', SubName: subName };
      if (!batch) {
        const m = got[0] as Delivered;
        return {
          MessageID: m.messageId,
          MessagePayload: m.payload,
          ...common,
          MessageIDList: null,
          MessagesPayload: null,
        };
      }
      return {
        MessageID: null,
        MessagePayload: null,
        ...common,
        MessageIDList: got.map((m) => m.messageId).join(BATCH_SEPARATOR),
        MessagesPayload: got.map((m) => m.payload).join(BATCH_SEPARATOR),
      };
    },
  },

  AcknowledgeMessage: {
    schema: { MessageId: 'String!', AckTopic: 'String!', SubName: 'String!' },
    run(p, ctx) {
      const topic = ctx.pulsar.resolve(reqStr(p, 'AckTopic'));
      ctx.pulsar.acknowledge(topic, reqStr(p, 'SubName'), reqStr(p, 'MessageId'));
      return { ErrorMsg: '' };
    },
  },
};

function send(p: Params, ctx: ActionContext) {
  for (const f of [
    'SendTimeout',
    'MaxPendingMessages',
    'BatchingMaxMessages',
    'BatchingMaxPublishDelay',
    'BatchingMaxBytes',
  ]) {
    range(p, f, 0, 2_147_483_647);
  }
  const topic = ctx.pulsar.resolve(reqStr(p, 'Topic'));
  return { MessageId: ctx.pulsar.send(topic, reqStr(p, 'Payload')), ErrorMsg: '' };
}
