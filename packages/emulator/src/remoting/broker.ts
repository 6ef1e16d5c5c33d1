// The Remoting name server and broker in one: every request of a 4.x client (Apache Java, Go,
// C++, ali-ons) lands in dispatch(), which checks ACL and answers with Apache's codes and remarks.
// One address plays a single-broker cluster, so routes point the broker back at this server. The
// messages and consumer offsets live in the shared RocketMQ engine (and its `--state` journal);
// the queue index, group membership and queue locks are this broker's own, in memory.

import {
  DELAY_LEVELS_MS,
  FLAG_ONEWAY,
  type RemotingCommand,
  RequestCode,
  ResponseCode,
  request,
  response,
  verifyRequest,
} from '@switchyard/rocketmq-remoting';
import type { Credential } from '../contracts.js';
import type { RocketMqEngine } from '../rocketmq/engine.js';
import { consumerSendMsgBack, pullMessage, queryConsumerOffset, updateConsumerOffset } from './consume.js';
import { ConsumerRegistry, type Member, parseHeartbeat } from './consumers.js';
import { lockBatch, QueueLocks, unlockBatch } from './locks.js';
import { sendBatchMessage, sendMessage } from './produce.js';
import { QueueIndex } from './queues.js';
import { getAllTopicList, getRouteInfo } from './route.js';

export interface RemotingBrokerOptions {
  readonly engine: RocketMqEngine;
  /** accessKey = secretId, secretKey = secretKey (TDMQ: role token and role name). */
  readonly credentials: readonly Credential[];
  /**
   * Accept broker requests without AccessKey (an Apache broker with aclEnable=false). Default false.
   * Name-server requests (route lookups, the topic list) are always open, as on the Apache name
   * server; a signature is checked wherever sent.
   */
  readonly allowAnonymous?: boolean;
  /** `host:port` clients reach this server at: the broker address in routes and the store host. */
  readonly advertised: () => string;
  readonly brokerName?: string;
  readonly cluster?: string;
  /** Body limit after decompression (the broker's maxMessageSize). Default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Cap on a pull's suspendTimeoutMillis, below the clients' 30 s socket timeout. Default 25 s. */
  readonly maxHoldMs?: number;
  /**
   * The broker's messageDelayLevel in ms, level n at index n-1. Default Apache's 18 levels
   * (1s 5s 10s 30s 1m ... 2h); tests shorten them to see retries without waiting.
   */
  readonly delayLevelsMs?: readonly number[];
  /** Silence after which a consumer is dropped from its group (the broker: 120 s). */
  readonly channelExpiredMs?: number;
  /** Real time, which clients stamp `__STARTDELIVERTIME` in. */
  readonly now?: () => number;
}

/** One client connection, as the handlers see it. */
export interface Peer extends Member {
  /** `ip:port` of the client: the born host of what it sends. */
  readonly address: string;
  /** Aborted when the connection closes or the server stops: ends long polls. */
  readonly signal: AbortSignal;
  /** Broker-to-client request (NOTIFY_CONSUMER_IDS_CHANGED). */
  send(cmd: RemotingCommand): void;
}

export type Reply = RemotingCommand | undefined;

/** The Apache name server checks no ACL: its requests need no key here either (a signature is still checked). */
const NAME_SERVER_REQUESTS = new Set<number>([
  RequestCode.GET_ROUTEINFO_BY_TOPIC,
  RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
]);

const FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

export class RemotingBroker {
  readonly engine: RocketMqEngine;
  readonly index: QueueIndex;
  readonly consumers = new ConsumerRegistry<Peer>();
  readonly locks = new QueueLocks();
  readonly brokerName: string;
  readonly cluster: string;
  readonly maxBodyBytes: number;
  readonly maxHoldMs: number;
  readonly delayLevelsMs: readonly number[];
  readonly now: () => number;
  private readonly credentials: readonly Credential[];
  private readonly allowAnonymous: boolean;
  private readonly advertised: () => string;
  private readonly channelExpiredMs: number;

  constructor(options: RemotingBrokerOptions) {
    this.engine = options.engine;
    this.index = new QueueIndex(options.engine);
    this.credentials = options.credentials;
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.advertised = options.advertised;
    this.brokerName = options.brokerName ?? 'broker-a';
    this.cluster = options.cluster ?? 'DefaultCluster';
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
    this.maxHoldMs = options.maxHoldMs ?? 25_000;
    this.delayLevelsMs = options.delayLevelsMs?.length ? [...options.delayLevelsMs] : DELAY_LEVELS_MS;
    this.channelExpiredMs = options.channelExpiredMs ?? 120_000;
    this.now = options.now ?? Date.now;
  }

  get storeHost(): string {
    return this.advertised();
  }

  /** The reply to one request; undefined for none (oneway requests get none either way). */
  async dispatch(cmd: RemotingCommand, peer: Peer): Promise<Reply> {
    try {
      const denied = this.checkAcl(cmd);
      if (denied !== undefined) return response(cmd, ResponseCode.SYSTEM_ERROR, {}, undefined, denied);
      return await this.serve(cmd, peer);
    } catch (error) {
      // NettyRemotingAbstract answers an exception with SYSTEM_ERROR and its text.
      return response(cmd, ResponseCode.SYSTEM_ERROR, {}, undefined, String(error));
    }
  }

  /**
   * Messages `group` may still get from `topic`: past its committed offset in every queue of the
   * topic and of %RETRY%<group> (so a message sent back counts until its retry is consumed),
   * plus those not yet visible (delayed, or waiting for their delay level). A queue without a
   * committed offset counts from 0, as QUERY_CONSUMER_OFFSET answers for it here. An admin view
   * (tests ask whether a group is done), not a Remoting request.
   */
  held(group: string, topic: string): number {
    let held = 0;
    for (const name of [topic, `%RETRY%${group}`]) {
      held += this.index.pendingCount(name);
      for (let queueId = 0; queueId < this.index.queueCount(name); queueId++) {
        const end = this.index.maxOffset(name, queueId);
        const committed = Math.max(0, this.engine.consumerOffset(group, name, queueId) ?? 0);
        held += Math.max(0, end - committed);
      }
    }
    return held;
  }

  /** A connection closed: its consumers leave their groups, and the groups are told. */
  disconnected(peer: Peer): void {
    for (const group of this.consumers.remove(peer)) this.notifyGroup(group);
    this.locks.releaseConnection(peer.connectionId);
  }

  /** Drop consumers silent past the channel expiry (run periodically by the server). */
  expireSilent(): Peer[] {
    const silent = this.consumers.silent(this.now(), this.channelExpiredMs);
    for (const peer of silent) this.disconnected(peer);
    return silent;
  }

  notifyGroup(group: string): void {
    for (const peer of this.consumers.members(group)) {
      const notice = request(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group });
      notice.flag |= FLAG_ONEWAY;
      peer.send(notice);
    }
  }

  /** The delay of a level, clamped to the highest level as the broker does. */
  delayOf(level: number): number {
    const levels = this.delayLevelsMs;
    return levels[Math.min(Math.max(1, level), levels.length) - 1]!;
  }

  faq(text: string): string {
    return text + FAQ;
  }

  private async serve(cmd: RemotingCommand, peer: Peer): Promise<Reply> {
    switch (cmd.code) {
      case RequestCode.GET_ROUTEINFO_BY_TOPIC:
        return getRouteInfo(this, cmd);
      case RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER:
        return getAllTopicList(this, cmd);
      case RequestCode.SEND_MESSAGE:
      case RequestCode.SEND_MESSAGE_V2:
        return sendMessage(this, cmd, peer);
      case RequestCode.SEND_BATCH_MESSAGE:
        return sendBatchMessage(this, cmd, peer);
      case RequestCode.PULL_MESSAGE:
        return pullMessage(this, cmd, peer);
      case RequestCode.QUERY_CONSUMER_OFFSET:
        return queryConsumerOffset(this, cmd);
      case RequestCode.UPDATE_CONSUMER_OFFSET:
        return updateConsumerOffset(this, cmd);
      case RequestCode.CONSUMER_SEND_MSG_BACK:
        return consumerSendMsgBack(this, cmd);
      case RequestCode.HEART_BEAT:
        return this.heartbeat(cmd, peer);
      case RequestCode.UNREGISTER_CLIENT:
        return this.unregister(cmd);
      case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
        return this.consumerList(cmd);
      case RequestCode.GET_MAX_OFFSET:
      case RequestCode.GET_MIN_OFFSET:
      case RequestCode.SEARCH_OFFSET_BY_TIMESTAMP:
        return this.offsetQuery(cmd);
      case RequestCode.LOCK_BATCH_MQ:
        return lockBatch(this, cmd, peer);
      case RequestCode.UNLOCK_BATCH_MQ:
        return unlockBatch(this, cmd);
      default:
        return response(
          cmd,
          ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
          {},
          undefined,
          ` request type ${cmd.code} not supported`,
        );
    }
  }

  /** The Apache plain-ACL rule over the received fields; a remark when refused. */
  private checkAcl(cmd: RemotingCommand): string | undefined {
    const accessKey = cmd.extFields.AccessKey;
    if (accessKey === undefined || accessKey === '') {
      if (this.allowAnonymous || NAME_SERVER_REQUESTS.has(cmd.code)) return undefined;
      return aclError('No accessKey is configured');
    }
    const credential = this.credentials.find((c) => c.secretId === accessKey);
    if (credential === undefined) return aclError(`No acl config for ${accessKey}`);
    if (!verifyRequest(cmd.extFields, cmd.body, credential.secretKey))
      return aclError(`Check signature failed for accessKey=${accessKey}`);
    return undefined;
  }

  private heartbeat(cmd: RemotingCommand, peer: Peer): Reply {
    const { clientId, consumers } = parseHeartbeat(cmd.body);
    for (const data of consumers) {
      if (this.engine.autoCreate) this.engine.requireGroup(data.group);
      ensureRetryTopic(this.engine, data.group);
      if (this.consumers.heartbeat(peer, clientId, data, this.now())) this.notifyGroup(data.group);
    }
    return response(cmd, ResponseCode.SUCCESS);
  }

  private unregister(cmd: RemotingCommand): Reply {
    const clientId = cmd.extFields.clientID ?? '';
    const group = cmd.extFields.consumerGroup;
    if (group !== undefined && group !== '' && this.consumers.unregister(clientId, group))
      this.notifyGroup(group);
    return response(cmd, ResponseCode.SUCCESS);
  }

  private consumerList(cmd: RemotingCommand): Reply {
    const group = cmd.extFields.consumerGroup ?? '';
    const ids = this.consumers.consumerIds(group);
    if (ids.length === 0)
      return response(cmd, ResponseCode.SYSTEM_ERROR, {}, undefined, `no consumer for this group, ${group}`);
    return response(cmd, ResponseCode.SUCCESS, {}, Buffer.from(JSON.stringify({ consumerIdList: ids })));
  }

  private offsetQuery(cmd: RemotingCommand): Reply {
    const topic = cmd.extFields.topic ?? '';
    const queueId = Number(cmd.extFields.queueId ?? 0);
    let offset = 0;
    if (this.engine.getTopic(topic) !== undefined) {
      if (cmd.code === RequestCode.GET_MAX_OFFSET) offset = this.index.maxOffset(topic, queueId);
      else if (cmd.code === RequestCode.SEARCH_OFFSET_BY_TIMESTAMP)
        offset = this.index.searchByTimestamp(topic, queueId, Number(cmd.extFields.timestamp ?? 0));
    }
    return response(cmd, ResponseCode.SUCCESS, { offset });
  }
}

/** The broker creates `%RETRY%<group>` (one queue) on a consumer's heartbeat and on send-back. */
export function ensureRetryTopic(engine: RocketMqEngine, group: string): string {
  const topic = `%RETRY%${group}`;
  if (engine.getTopic(topic) === undefined) engine.createTopic(topic, { type: 'MIXED', queues: 1 });
  return topic;
}

/** What PlainAccessValidator's AclException reads like once NettyRemotingAbstract has it. */
function aclError(text: string): string {
  return `org.apache.rocketmq.acl.common.AclException: ${text}, org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:684)`;
}
