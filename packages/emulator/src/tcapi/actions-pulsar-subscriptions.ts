// The Tencent Cloud API's Pulsar subscription management: create, describe (with backlogs),
// delete, and rewinding a subscription to a time.

import { DEFAULT_CLUSTER_ID } from '../pulsar/engine.js';
import { type ActionDef, formatTime, invalidValue, page } from './action.js';
import { arr, bool, int, reqInt, reqStr, str } from './params.js';
import { maxLen, nonEmpty, range } from './pulsar-params.js';

export const pulsarSubscriptionActions: Record<string, ActionDef> = {
  CreateSubscription: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      SubscriptionName: 'String!',
      IsIdempotent: 'Boolean!',
      ClusterId: 'String!',
      Remark: 'String',
      AutoCreatePolicyTopic: 'Boolean',
      PostFixPattern: 'String',
    },
    run(p, ctx) {
      const name = nonEmpty(p, 'SubscriptionName');
      maxLen(p, 'SubscriptionName', 128);
      maxLen(p, 'Remark', 128);
      const pattern = str(p, 'PostFixPattern');
      if (pattern !== undefined && pattern !== 'LEGACY' && pattern !== 'COMMUNITY') {
        throw invalidValue('PostFixPattern', 'LEGACY or COMMUNITY');
      }
      const topic = ctx.pulsar.topic(
        reqStr(p, 'ClusterId'),
        reqStr(p, 'EnvironmentId'),
        reqStr(p, 'TopicName'),
      );
      ctx.pulsar.createSubscription(topic, name, str(p, 'Remark') ?? '', bool(p, 'IsIdempotent') === true);
      return { Result: true };
    },
  },

  DescribeSubscriptions: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      ClusterId: 'String!',
      Offset: 'Integer',
      Limit: 'Integer',
      SubscriptionName: 'String',
      Filters: 'FilterSubscription[]',
    },
    run(p, ctx) {
      const topic = ctx.pulsar.topic(
        reqStr(p, 'ClusterId'),
        reqStr(p, 'EnvironmentId'),
        reqStr(p, 'TopicName'),
      );
      const fuzzy = str(p, 'SubscriptionName');
      const filters =
        arr<{ SubscriptionNames?: string[]; ConsumerHasBacklog?: boolean; ConsumerHasCount?: boolean }>(
          p,
          'Filters',
        ) ?? [];
      const all = [...topic.subs.values()].filter((s) => {
        if (fuzzy && !s.name.includes(fuzzy)) return false;
        for (const f of filters) {
          if (f.SubscriptionNames && f.SubscriptionNames.length > 0 && !f.SubscriptionNames.includes(s.name))
            return false;
          if (f.ConsumerHasBacklog !== undefined && ctx.pulsar.backlog(topic, s) > 0 !== f.ConsumerHasBacklog)
            return false;
          // HTTP consumers are not connections; no subscription ever has a connected consumer here.
          if (f.ConsumerHasCount === true) return false;
        }
        return true;
      });
      return {
        SubscriptionSets: page(all, int(p, 'Offset'), int(p, 'Limit'), 10, 20).map((s) => ({
          TopicName: topic.name,
          EnvironmentId: topic.namespace,
          ConnectedSince: null,
          ConsumerAddr: null,
          ConsumerCount: '0',
          ConsumerName: null,
          MsgBacklog: String(ctx.pulsar.backlog(topic, s)),
          MsgRateExpired: '0',
          MsgRateOut: '0',
          MsgThroughputOut: '0',
          SubscriptionName: s.name,
          ConsumerSets: [],
          IsOnline: false,
          ConsumersScheduleSets: [],
          Remark: s.remark,
          CreateTime: formatTime(s.createdAt),
          UpdateTime: formatTime(s.updatedAt),
          SubType: 'Shared',
          BlockedSubscriptionOnUnackedMsgs: false,
          MaxUnackedMsgNum: 0,
        })),
        TotalCount: all.length,
      };
    },
  },

  DeleteSubscriptions: {
    schema: {
      SubscriptionTopicSets: 'SubscriptionTopic[]!',
      ClusterId: 'String',
      EnvironmentId: 'String',
      Force: 'Boolean',
    },
    run(p, ctx) {
      const sets =
        arr<{ EnvironmentId: string; TopicName: string; SubscriptionName: string }>(
          p,
          'SubscriptionTopicSets',
        ) ?? [];
      if (sets.length === 0 || sets.length > 20) {
        throw invalidValue('SubscriptionTopicSets', 'between 1 and 20 subscriptions');
      }
      const cluster = str(p, 'ClusterId') ?? DEFAULT_CLUSTER_ID;
      const resolved = sets.map((s) => {
        const topic = ctx.pulsar.topic(cluster, s.EnvironmentId, s.TopicName);
        ctx.pulsar.subscription(topic, s.SubscriptionName);
        return { topic, name: s.SubscriptionName };
      });
      for (const r of resolved) ctx.pulsar.deleteSubscription(r.topic, r.name);
      return {
        SubscriptionTopicSets: sets.map((s) => ({
          EnvironmentId: s.EnvironmentId,
          TopicName: s.TopicName,
          SubscriptionName: s.SubscriptionName,
        })),
      };
    },
  },

  ResetMsgSubOffsetByTimestamp: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      Subscription: 'String!',
      ToTimestamp: 'Integer!',
      ClusterId: 'String!',
    },
    run(p, ctx) {
      range(p, 'ToTimestamp', 0, Number.MAX_SAFE_INTEGER);
      const topic = ctx.pulsar.topic(
        reqStr(p, 'ClusterId'),
        reqStr(p, 'EnvironmentId'),
        reqStr(p, 'TopicName'),
      );
      const sub = ctx.pulsar.subscription(topic, reqStr(p, 'Subscription'));
      ctx.pulsar.resetByTimestamp(topic, sub, reqInt(p, 'ToTimestamp'));
      return { Result: true };
    },
  },
};
