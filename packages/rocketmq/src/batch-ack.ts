// One AckMessage request for many deliveries. SimpleConsumer.ack() sends one request per message;
// the protocol's AckMessageRequest carries a list of entries, and the client exposes the raw call
// (`ackMessageViaRpc`, public since it serves its push consumer), so a batch of acks costs one
// round trip. Entry statuses are checked one by one (the client's own ack checks only the
// top-level status, so a failed entry behind MULTIPLE_RESULTS would pass unnoticed).

import { type MessageView, type SimpleConsumer, StatusChecker } from 'rocketmq-client-nodejs';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { RocketMqCode } from './errors.js';

const OK = 20_000;
const MULTIPLE_RESULTS = 30_000;
const MAX_ENTRIES = 64;

type AckRpc = SimpleConsumer & {
  ackMessageViaRpc?: SimpleConsumer['ackMessageViaRpc'];
};

/** False when the installed client lacks the raw call: the caller acks one by one then. */
export function canBatchAck(client: SimpleConsumer): boolean {
  return typeof (client as AckRpc).ackMessageViaRpc === 'function';
}

/**
 * Acks `views` (same topic) in requests of up to 64 entries. Resolves with the errors of entries
 * that failed for a reason other than a used or expired receipt handle (harmless on ack).
 */
export async function batchAck(
  client: SimpleConsumer,
  group: string,
  views: readonly MessageView[],
  timeoutMs: number,
): Promise<unknown[]> {
  const byEndpoint = new Map<string, MessageView[]>();
  for (const view of views) {
    const key = `${view.endpoints.facade}\n${view.topic}`;
    const list = byEndpoint.get(key);
    if (list === undefined) byEndpoint.set(key, [view]);
    else list.push(view);
  }
  const failures: unknown[] = [];
  const requests: Promise<void>[] = [];
  for (const list of byEndpoint.values()) {
    for (let i = 0; i < list.length; i += MAX_ENTRIES) {
      requests.push(ackChunk(client, group, list.slice(i, i + MAX_ENTRIES), timeoutMs, failures));
    }
  }
  await Promise.all(requests);
  return failures;
}

async function ackChunk(
  client: SimpleConsumer,
  group: string,
  views: readonly MessageView[],
  timeoutMs: number,
  failures: unknown[],
): Promise<void> {
  const first = views[0]!;
  const request = new servicePb.AckMessageRequest()
    .setGroup(new definitionPb.Resource().setName(group))
    .setTopic(new definitionPb.Resource().setName(first.topic));
  for (const view of views) {
    request.addEntries(
      new servicePb.AckMessageEntry().setMessageId(view.messageId).setReceiptHandle(view.receiptHandle),
    );
  }
  let response: ReturnType<servicePb.AckMessageResponse['toObject']>;
  try {
    response = (await client.ackMessageViaRpc(first.endpoints, request, timeoutMs)).toObject();
  } catch (error) {
    failures.push(error);
    return;
  }
  const top = response.status?.code ?? OK;
  if (top !== OK && top !== MULTIPLE_RESULTS) {
    if (top === RocketMqCode.INVALID_RECEIPT_HANDLE && views.length === 1) return;
    // A whole-request failure only counts when no entry tells otherwise.
    if (response.entriesList.length === 0) {
      failures.push(statusError(response.status));
      return;
    }
  }
  for (const entry of response.entriesList) {
    const code = entry.status?.code ?? OK;
    if (code === OK || code === RocketMqCode.INVALID_RECEIPT_HANDLE) continue;
    failures.push(statusError(entry.status));
  }
}

function statusError(status: { code: number; message: string } | undefined): unknown {
  try {
    // The client's own mapping from status to exception class, for one error family.
    StatusChecker.check(status as never);
  } catch (error) {
    return error;
  }
  return new Error(`ack failed with status ${status?.code}`);
}
