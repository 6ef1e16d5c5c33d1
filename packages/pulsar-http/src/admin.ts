// Management for the CLI through the TDMQ Pulsar API calls the driver already makes: topics of the
// namespace (DescribeTopics), each subscription's backlog (DescribeSubscriptions MsgBacklog), and a
// purge that moves the group's subscription to now (ResetMsgSubOffsetByTimestamp), which skips
// everything it had not acked — the API has no other way to empty a subscription.

import type { DestinationStats, DriverAdmin } from '@switchyard/core/driver';
import type { Api } from './client.js';
import type { TopicName } from './naming.js';

type Subscriptions = {
  SubscriptionSets?: Array<{ SubscriptionName?: string; MsgBacklog?: string | number }>;
};

export function pulsarHttpAdmin(api: Api, qualify: (name: string) => TopicName): DriverAdmin {
  const subscriptions = async (topic: TopicName, group: string | undefined) => {
    const response = await api.call<Subscriptions>('DescribeSubscriptions', {
      ClusterId: topic.clusterId,
      EnvironmentId: topic.environmentId,
      TopicName: topic.topicName,
      Limit: 100,
      ...(group === undefined ? {} : { Filters: [{ SubscriptionNames: [group] }] }),
    });
    return (response.SubscriptionSets ?? []).filter(
      (s) => group === undefined || s.SubscriptionName === group,
    );
  };
  const backlog = (value: string | number | undefined) => {
    const n = Number(value);
    return Number.isFinite(n) ? { ready: n } : {};
  };
  return {
    unsupportedReason:
      'the TDMQ Pulsar API this driver speaks reads a subscription only by receiving from it (ReceiveMessage)',
    // ResetMsgSubOffsetByTimestamp moves the subscription's cursor: other subscriptions keep the messages.
    purgeEffect: 'skip',
    async list() {
      // Any name qualifies to the configured cluster and namespace; only those two are used.
      const { clusterId, environmentId } = qualify('x');
      const names: string[] = [];
      for (let offset = 0; ; offset += 20) {
        const page = await api.call<{ TopicSets?: Array<{ TopicName?: string }>; TotalCount?: number }>(
          'DescribeTopics',
          { ClusterId: clusterId, EnvironmentId: environmentId, Offset: offset, Limit: 20 },
        );
        const items = page.TopicSets ?? [];
        names.push(...items.map((t) => String(t.TopicName)));
        if (items.length < 20 || names.length >= Number(page.TotalCount ?? 0)) break;
      }
      return names.map((name) => ({ name, kind: 'topic' as const }));
    },
    async stats(source, group): Promise<DestinationStats> {
      const topic = qualify(source);
      const sets = await subscriptions(topic, group);
      return {
        name: topic.path,
        groups: Object.fromEntries(sets.map((s) => [String(s.SubscriptionName), backlog(s.MsgBacklog)])),
      };
    },
    async purge(source, group) {
      const topic = qualify(source);
      const subscription = group ?? 'default';
      const [before] = await subscriptions(topic, subscription);
      await api.call('ResetMsgSubOffsetByTimestamp', {
        ClusterId: topic.clusterId,
        EnvironmentId: topic.environmentId,
        TopicName: topic.topicName,
        Subscription: subscription,
        ToTimestamp: Date.now(),
      });
      const count = Number(before?.MsgBacklog);
      return Number.isFinite(count) ? count : undefined;
    },
  };
}
