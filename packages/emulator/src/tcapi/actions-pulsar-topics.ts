// The Tencent Cloud API's Pulsar management of clusters, environments (namespaces) and topics,
// addressed by ClusterId / EnvironmentId / TopicName.

import { type ActionDef, formatTime, invalidValue, page } from './action.js';
import { arr, bool, int, reqInt, reqStr, str } from './params.js';
import { ENV_NAME_RE, maxLen, range, TOPIC_NAME_RE, topicInfo } from './pulsar-params.js';

export const pulsarTopicActions: Record<string, ActionDef> = {
  DescribeClusters: {
    schema: {
      Offset: 'Integer',
      Limit: 'Integer',
      ClusterIdList: 'String[]',
      IsTagFilter: 'Boolean',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const ids = arr<string>(p, 'ClusterIdList');
      const all = ctx.pulsar.listClusters().filter((c) => !ids || ids.length === 0 || ids.includes(c.id));
      return {
        TotalCount: all.length,
        ClusterSet: page(all, int(p, 'Offset'), int(p, 'Limit'), 20, 100).map((c) => ({
          ClusterId: c.id,
          ClusterName: c.name,
          Remark: c.remark,
          EndPointNum: 0,
          CreateTime: formatTime(c.createdAt),
          Healthy: 1,
          HealthyInfo: '',
          Status: 1,
          MaxNamespaceNum: 50,
          MaxTopicNum: 1000,
          MaxQps: 1000,
          MessageRetentionTime: 0,
          MaxStorageCapacity: 0,
          Version: '2.9.2',
          NamespaceNum: c.namespaces.size,
          TopicNum: [...c.namespaces.values()].reduce((n, ns) => n + ns.topics.size, 0),
          PublicAccessEnabled: false,
          Tags: [],
          PayMode: 0,
        })),
      };
    },
  },

  CreateEnvironment: {
    schema: {
      EnvironmentId: 'String!',
      MsgTTL: 'Integer!',
      ClusterId: 'String!',
      Remark: 'String',
      RetentionPolicy: 'RetentionPolicy',
      AutoSubscriptionCreation: 'Boolean',
      SubscriptionExpirationTime: 'Integer',
      SubscriptionExpirationTimeEnable: 'Boolean',
      Tags: 'Tag[]',
    },
    run(p, ctx) {
      const name = reqStr(p, 'EnvironmentId');
      if (!ENV_NAME_RE.test(name))
        throw invalidValue('EnvironmentId', 'letters, digits, - and _, at most 16');
      range(p, 'MsgTTL', 60, 1_296_000);
      maxLen(p, 'Remark', 128);
      const rp = p.RetentionPolicy as { TimeInMinutes: number; SizeInMB: number } | undefined;
      const ns = ctx.pulsar.createNamespace(
        reqStr(p, 'ClusterId'),
        name,
        reqInt(p, 'MsgTTL'),
        rp ? { timeInMinutes: rp.TimeInMinutes, sizeInMB: rp.SizeInMB } : undefined,
        str(p, 'Remark') ?? '',
      );
      return {
        EnvironmentId: ns.name,
        MsgTTL: ns.msgTtlSec,
        Remark: ns.remark,
        NamespaceId: `${ns.clusterId}/${ns.name}`,
        SubscriptionExpirationTime: int(p, 'SubscriptionExpirationTime') ?? null,
        SubscriptionExpirationTimeEnable: bool(p, 'SubscriptionExpirationTimeEnable') ?? false,
      };
    },
  },

  DescribeEnvironments: {
    schema: {
      ClusterId: 'String!',
      EnvironmentId: 'String',
      Offset: 'Integer',
      Limit: 'Integer',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const fuzzy = str(p, 'EnvironmentId');
      const exact = (arr<{ Name?: string; Values?: string[] }>(p, 'Filters') ?? [])
        .filter((f) => f.Name === 'EnvironmentId')
        .flatMap((f) => f.Values ?? []);
      const all = [...ctx.pulsar.cluster(reqStr(p, 'ClusterId')).namespaces.values()].filter(
        (ns) => (!fuzzy || ns.name.includes(fuzzy)) && (exact.length === 0 || exact.includes(ns.name)),
      );
      return {
        TotalCount: all.length,
        EnvironmentSet: page(all, int(p, 'Offset'), int(p, 'Limit'), 20, 20).map((ns) => ({
          EnvironmentId: ns.name,
          Remark: ns.remark,
          MsgTTL: ns.msgTtlSec,
          CreateTime: formatTime(ns.createdAt),
          UpdateTime: formatTime(ns.updatedAt),
          NamespaceId: `${ns.clusterId}/${ns.name}`,
          NamespaceName: ns.name,
          TopicNum: ns.topics.size,
          RetentionPolicy: ns.retention
            ? { TimeInMinutes: ns.retention.timeInMinutes, SizeInMB: ns.retention.sizeInMB }
            : null,
          AutoSubscriptionCreation: true,
          SubscriptionExpirationTime: null,
          SubscriptionExpirationTimeEnable: false,
          Tags: [],
        })),
      };
    },
  },

  CreateTopic: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      Partitions: 'Integer!',
      ClusterId: 'String!',
      Remark: 'String',
      TopicType: 'Integer',
      PulsarTopicType: 'Integer',
      MsgTTL: 'Integer',
      UnackPolicy: 'String',
      IsolateConsumerEnable: 'Boolean',
      AckTimeOut: 'Integer',
      PulsarTopicMessageType: 'Integer',
      Tags: 'Tag[]',
      DelayMessagePolicy: 'String',
    },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      if (!TOPIC_NAME_RE.test(name)) throw invalidValue('TopicName', 'letters, digits, - and _, at most 64');
      range(p, 'Partitions', 0, 32);
      range(p, 'PulsarTopicType', 0, 3);
      range(p, 'TopicType', 0, 5);
      range(p, 'MsgTTL', 60, 1_296_000);
      range(p, 'AckTimeOut', 60, 86_400, 'InvalidParameterValue.AckTime');
      maxLen(p, 'Remark', 128);
      const partitions = reqInt(p, 'Partitions');
      const ptt = int(p, 'PulsarTopicType');
      // Partitions 0/1 means non-partitioned unless PulsarTopicType explicitly asks for a partitioned topic.
      const partitioned = ptt === 1 || ptt === 3 ? true : ptt === 0 || ptt === 2 ? false : partitions > 1;
      if (partitioned && partitions < 1)
        throw invalidValue('Partitions', 'a partitioned topic needs partitions');
      if (!partitioned && partitions > 1) throw invalidValue('PulsarTopicType', 'conflicts with Partitions');
      const topic = ctx.pulsar.createTopic(reqStr(p, 'ClusterId'), reqStr(p, 'EnvironmentId'), name, {
        partitions,
        partitioned,
        pulsarTopicType: ptt ?? (partitioned ? 3 : 2),
        topicType: int(p, 'TopicType') ?? 0,
        remark: str(p, 'Remark') ?? '',
        msgTtlSec: int(p, 'MsgTTL'),
        ackTimeoutSec: int(p, 'AckTimeOut'),
      });
      return {
        EnvironmentId: topic.namespace,
        TopicName: topic.name,
        Partitions: partitions,
        Remark: topic.remark,
        TopicType: topic.topicType,
      };
    },
  },

  DescribeTopics: {
    schema: {
      EnvironmentId: 'String!',
      ClusterId: 'String!',
      TopicName: 'String',
      Offset: 'Integer',
      Limit: 'Integer',
      TopicType: 'Integer',
      Filters: 'Filter[]',
      TopicCreator: 'Integer',
    },
    run(p, ctx) {
      const fuzzy = str(p, 'TopicName');
      const type = int(p, 'TopicType');
      const exact = (arr<{ Name?: string; Values?: string[] }>(p, 'Filters') ?? [])
        .filter((f) => f.Name === 'TopicName')
        .flatMap((f) => f.Values ?? []);
      const all = ctx.pulsar
        .listTopics(reqStr(p, 'ClusterId'), reqStr(p, 'EnvironmentId'))
        .filter(
          (t) =>
            (!fuzzy || t.name.includes(fuzzy)) &&
            (exact.length === 0 || exact.includes(t.name)) &&
            (type === undefined || t.pulsarTopicType === type),
        )
        .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
      return {
        TopicSets: page(all, int(p, 'Offset'), int(p, 'Limit'), 10, 20).map((t) => topicInfo(ctx, t)),
        TotalCount: all.length,
      };
    },
  },

  DeleteTopics: {
    schema: { TopicSets: 'TopicRecord[]!', ClusterId: 'String!', EnvironmentId: 'String', Force: 'Boolean' },
    run(p, ctx) {
      const records = arr<{ EnvironmentId: string; TopicName: string }>(p, 'TopicSets') ?? [];
      if (records.length === 0 || records.length > 20)
        throw invalidValue('TopicSets', 'between 1 and 20 topics');
      const cluster = reqStr(p, 'ClusterId');
      // Resolve every record first so a bad one deletes nothing.
      const topics = records.map((r) => ctx.pulsar.topic(cluster, r.EnvironmentId, r.TopicName));
      for (const t of topics) ctx.pulsar.deleteTopic(t);
      return { TopicSets: records.map((r) => ({ EnvironmentId: r.EnvironmentId, TopicName: r.TopicName })) };
    },
  },
};
