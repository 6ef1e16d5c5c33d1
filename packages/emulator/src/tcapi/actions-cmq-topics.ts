// The Tencent Cloud API's CMQ topic and subscription actions and their attribute translation, on
// the shared CmqEngine.

import { type ActionDef, invalidValue } from './action.js';
import {
  ALL,
  type CmqContext,
  EMULATOR_UIN,
  page,
  retention,
  type Tag,
  TENANT_ID,
  tagFilter,
} from './cmq-context.js';
import { ApiError } from './envelope.js';
import { arr, bool, int, reqStr, str } from './params.js';

function describeTopic(ctx: CmqContext, topicName: string) {
  const a = ctx.cmq.getTopicAttributes(topicName);
  const extra = ctx.cmqExtras.topic(a);
  return {
    TopicId: a.topicId,
    TopicName: a.topicName,
    MsgRetentionSeconds: extra.msgRetentionSeconds,
    MaxMsgSize: a.maxMsgSize,
    Qps: 5000,
    FilterType: a.filterType,
    CreateTime: a.createTime * 1000,
    LastModifyTime: a.lastModifyTime * 1000,
    MsgCount: a.msgCount,
    CreateUin: EMULATOR_UIN,
    Tags: extra.tags,
    Trace: extra.trace,
    TenantId: TENANT_ID,
    NamespaceName: a.topicName,
    Status: 1,
    BrokerType: 0,
    SubscriptionCount: ctx.cmq.listSubscriptions(a.topicName, { limit: ALL }).totalCount,
  };
}

function describeSubscription(ctx: CmqContext, topicName: string, subscriptionName: string) {
  const s = ctx.cmq.getSubscriptionAttributes(topicName, subscriptionName);
  return {
    SubscriptionName: s.subscriptionName,
    SubscriptionId: s.subscriptionId,
    TopicOwner: Number(s.topicOwner),
    MsgCount: s.msgCount,
    LastModifyTime: s.lastModifyTime * 1000,
    CreateTime: s.createTime * 1000,
    BindingKey: s.bindingKeys,
    Endpoint: s.endpoint,
    FilterTags: s.filterTags,
    Protocol: s.protocol,
    NotifyStrategy: s.notifyStrategy,
    NotifyContentFormat: s.notifyContentFormat,
    TopicName: s.topicName,
  };
}

export const cmqTopicActions: Record<string, ActionDef<CmqContext>> = {
  CreateCmqTopic: {
    schema: {
      TopicName: 'String!',
      MaxMsgSize: 'Integer',
      FilterType: 'Integer',
      MsgRetentionSeconds: 'Integer',
      Trace: 'Boolean',
      Tags: 'Tag[]',
    },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      const keep = retention(p, 'MsgRetentionSeconds', 60, 86_400);
      const maxMsgSize = int(p, 'MaxMsgSize');
      const filterType = int(p, 'FilterType');
      const { topicId } = ctx.cmq.createTopic(name, {
        ...(maxMsgSize !== undefined ? { maxMsgSize } : {}),
        ...(filterType !== undefined ? { filterType } : {}),
      });
      const extra = ctx.cmqExtras.topic({ topicId, topicName: name });
      extra.tags = (arr<Tag>(p, 'Tags') ?? []).map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
      extra.trace = bool(p, 'Trace') ?? false;
      if (keep !== undefined) extra.msgRetentionSeconds = keep;
      return { TopicId: topicId };
    },
  },

  DescribeCmqTopics: {
    schema: {
      Offset: 'Integer',
      Limit: 'Integer',
      TopicName: 'String',
      TopicNameList: 'String[]',
      IsTagFilter: 'Boolean',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const { offset, limit } = page(p);
      const names = (arr<string>(p, 'TopicNameList') ?? []).map((n) => n.toLowerCase());
      const byTag = tagFilter(p);
      const all = ctx.cmq
        .listTopics({ searchWord: str(p, 'TopicName') ?? '', limit: ALL })
        .topicList.filter((t) => names.length === 0 || names.includes(t.topicName.toLowerCase()))
        .filter((t) => byTag(ctx.cmqExtras.topic(t).tags));
      return {
        TopicList: all.slice(offset, offset + limit).map((t) => describeTopic(ctx, t.topicName)),
        TotalCount: all.length,
      };
    },
  },

  DescribeCmqTopicDetail: {
    schema: { TopicName: 'String' },
    run(p, ctx) {
      const name = str(p, 'TopicName');
      if (name === undefined) {
        throw new ApiError('MissingParameter', 'The request is missing a required parameter `TopicName`.');
      }
      return { TopicDescribe: describeTopic(ctx, name) };
    },
  },

  ModifyCmqTopicAttribute: {
    schema: { TopicName: 'String!', MaxMsgSize: 'Integer', MsgRetentionSeconds: 'Integer', Trace: 'Boolean' },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      const keep = retention(p, 'MsgRetentionSeconds', 60, 86_400);
      const maxMsgSize = int(p, 'MaxMsgSize');
      const a = ctx.cmq.setTopicAttributes(name, maxMsgSize !== undefined ? { maxMsgSize } : {});
      const extra = ctx.cmqExtras.topic(a);
      if (keep !== undefined) extra.msgRetentionSeconds = keep;
      const trace = bool(p, 'Trace');
      if (trace !== undefined) extra.trace = trace;
      return {};
    },
  },

  DeleteCmqTopic: {
    schema: { TopicName: 'String!' },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      ctx.cmq.deleteTopic(name);
      ctx.cmqExtras.topics.delete(name.toLowerCase());
      return {};
    },
  },

  CreateCmqSubscribe: {
    schema: {
      TopicName: 'String!',
      SubscriptionName: 'String!',
      Protocol: 'String!',
      Endpoint: 'String!',
      NotifyStrategy: 'String',
      FilterTag: 'String[]',
      BindingKey: 'String[]',
      NotifyContentFormat: 'String',
    },
    run(p, ctx) {
      const protocol = reqStr(p, 'Protocol');
      const strategy = str(p, 'NotifyStrategy');
      const format = str(p, 'NotifyContentFormat');
      const tags = arr<string>(p, 'FilterTag');
      const keys = arr<string>(p, 'BindingKey');
      const { subscriptionId } = ctx.cmq.subscribe(reqStr(p, 'TopicName'), reqStr(p, 'SubscriptionName'), {
        protocol,
        endpoint: reqStr(p, 'Endpoint'),
        ...(strategy !== undefined ? { notifyStrategy: strategy } : {}),
        // A queue endpoint only takes SIMPLIFIED; when the caller says nothing, that is the default.
        ...(format !== undefined
          ? { notifyContentFormat: format }
          : protocol === 'queue'
            ? { notifyContentFormat: 'SIMPLIFIED' }
            : {}),
        ...(tags !== undefined ? { filterTags: tags } : {}),
        ...(keys !== undefined ? { bindingKeys: keys } : {}),
      });
      return { SubscriptionId: subscriptionId };
    },
  },

  DescribeCmqSubscriptionDetail: {
    schema: {
      TopicName: 'String',
      Offset: 'Integer',
      Limit: 'Integer',
      SubscriptionName: 'String',
      QueueName: 'String',
      QueryType: 'String',
    },
    run(p, ctx) {
      const { offset, limit } = page(p);
      const queryType = str(p, 'QueryType') ?? 'topic';
      const search = (str(p, 'SubscriptionName') ?? '').toLowerCase();
      let found: { topic: string; sub: string }[];
      if (queryType === 'topic') {
        const topic = str(p, 'TopicName');
        if (topic === undefined) {
          throw new ApiError('MissingParameter', 'The request is missing a required parameter `TopicName`.');
        }
        found = ctx.cmq
          .listSubscriptions(topic, { searchWord: search, limit: ALL })
          .subscriptionList.map((s) => ({ topic, sub: s.subscriptionName }));
      } else if (queryType === 'queue') {
        const queue = str(p, 'QueueName');
        if (queue === undefined) {
          throw new ApiError('MissingParameter', 'The request is missing a required parameter `QueueName`.');
        }
        found = ctx.cmq.listTopics({ limit: ALL }).topicList.flatMap((t) =>
          ctx.cmq
            .listSubscriptions(t.topicName, { searchWord: search, limit: ALL })
            .subscriptionList.filter(
              (s) => s.protocol === 'queue' && s.endpoint.toLowerCase() === queue.toLowerCase(),
            )
            .map((s) => ({ topic: t.topicName, sub: s.subscriptionName })),
        );
      } else {
        throw invalidValue('QueryType', 'topic or queue');
      }
      return {
        TotalCount: found.length,
        SubscriptionSet: found
          .slice(offset, offset + limit)
          .map((f) => describeSubscription(ctx, f.topic, f.sub)),
      };
    },
  },

  ModifyCmqSubscriptionAttribute: {
    schema: {
      TopicName: 'String!',
      SubscriptionName: 'String!',
      NotifyStrategy: 'String',
      NotifyContentFormat: 'String',
      FilterTags: 'String[]',
      BindingKey: 'String[]',
    },
    run(p, ctx) {
      const strategy = str(p, 'NotifyStrategy');
      const format = str(p, 'NotifyContentFormat');
      const tags = arr<string>(p, 'FilterTags');
      const keys = arr<string>(p, 'BindingKey');
      ctx.cmq.setSubscriptionAttributes(reqStr(p, 'TopicName'), reqStr(p, 'SubscriptionName'), {
        ...(strategy !== undefined ? { notifyStrategy: strategy } : {}),
        ...(format !== undefined ? { notifyContentFormat: format } : {}),
        ...(tags !== undefined ? { filterTags: tags } : {}),
        ...(keys !== undefined ? { bindingKeys: keys } : {}),
      });
      return {};
    },
  },

  DeleteCmqSubscribe: {
    schema: { TopicName: 'String!', SubscriptionName: 'String!' },
    run(p, ctx) {
      ctx.cmq.unsubscribe(reqStr(p, 'TopicName'), reqStr(p, 'SubscriptionName'));
      return {};
    },
  },
};
