// The name server's requests: GET_ROUTEINFO_BY_TOPIC, a single broker (this server) holding the
// topic's queues, and GET_ALL_TOPIC_LIST_FROM_NAMESERVER (what `mqadmin topicList` asks). Unknown topics are created on lookup when the emulator auto-creates (the sheet
// allows it; a Java producer would otherwise fall back to TBW102 and have the broker create it).

import {
  encodeRouteData,
  Perm,
  type RemotingCommand,
  ResponseCode,
  response,
} from '@switchyard/rocketmq-remoting';
import type { TopicInfo } from '../rocketmq/engine.js';
import type { RemotingBroker, Reply } from './broker.js';

/** Queues of a topic a 4.x client creates: the producer's defaultTopicQueueNums. */
export const DEFAULT_QUEUES = 4;
const LEGAL = /^[%|A-Za-z0-9_-]{1,127}$/;

export function isLegalTopic(topic: string): boolean {
  return LEGAL.test(topic);
}

/** The topic, created with `queues` when missing and allowed; undefined when it does not exist. */
export function topicFor(
  broker: RemotingBroker,
  topic: string,
  queues = DEFAULT_QUEUES,
): TopicInfo | undefined {
  const info = broker.engine.getTopic(topic);
  if (info !== undefined || !isLegalTopic(topic)) return info;
  // The broker makes a group's retry topic on its first heartbeat and registers it at once; a
  // consumer looks the route up just before that heartbeat, so an existing group's is made here.
  if (topic.startsWith('%RETRY%')) {
    const group = topic.slice('%RETRY%'.length);
    if (broker.engine.getGroup(group) === undefined && !broker.engine.autoCreate) return undefined;
    return broker.engine.createTopic(topic, { type: 'MIXED', queues: 1 });
  }
  if (!broker.engine.autoCreate || topic.startsWith('%DLQ%')) return undefined;
  return broker.engine.createTopic(topic, { type: 'MIXED', queues });
}

export function getRouteInfo(broker: RemotingBroker, cmd: RemotingCommand): Reply {
  const topic = cmd.extFields.topic ?? '';
  const info = topicFor(broker, topic);
  if (info === undefined) {
    return response(
      cmd,
      ResponseCode.TOPIC_NOT_EXIST,
      {},
      undefined,
      broker.faq(`No topic route info in name server for the topic: ${topic}`),
    );
  }
  const body = encodeRouteData({
    queueDatas: [
      {
        brokerName: broker.brokerName,
        readQueueNums: info.queues,
        writeQueueNums: info.queues,
        perm: Perm.READ | Perm.WRITE,
        topicSysFlag: 0,
      },
    ],
    brokerDatas: [
      { cluster: broker.cluster, brokerName: broker.brokerName, brokerAddrs: { '0': broker.storeHost } },
    ],
    filterServerTable: {},
  });
  return response(cmd, ResponseCode.SUCCESS, {}, body);
}

/**
 * Every topic the name server knows, as DefaultRequestProcessor#getAllTopicListFromNameserver
 * answers with enableAllTopicList on (its default): a TopicList body, `{"topicList":[...]}`,
 * retry and dead-letter topics included.
 */
export function getAllTopicList(broker: RemotingBroker, cmd: RemotingCommand): Reply {
  const topicList = broker.engine.listTopics().map((t) => t.name);
  return response(cmd, ResponseCode.SUCCESS, {}, Buffer.from(JSON.stringify({ topicList })));
}
