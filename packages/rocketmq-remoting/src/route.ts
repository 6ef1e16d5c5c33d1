import { RemotingFrameError } from './command.js';

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** broker id → `host:port`; id 0 is the master. */
  brokerAddrs: Record<string, string>;
}

export interface TopicRouteData {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Record<string, string[]>;
}

/**
 * Standard JSON with quoted keys; each QueueData also carries the pre-4.9 spelling `topicSynFlag`, which Go
 * still reads (sheet §2.1).
 */
export function encodeRouteData(route: TopicRouteData): Buffer {
  const json = {
    ...(route.orderTopicConf !== undefined ? { orderTopicConf: route.orderTopicConf } : {}),
    queueDatas: route.queueDatas.map((q) => ({ ...q, topicSynFlag: q.topicSysFlag })),
    brokerDatas: route.brokerDatas,
    filterServerTable: route.filterServerTable,
  };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Parses both the standard form and fastjson's `{0:"h:p"}` with bare integer keys (name servers before 4.9.4). */
export function decodeRouteData(body: Buffer | string): TopicRouteData {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(quoteIntegerKeys(text));
  } catch (cause) {
    throw new RemotingFrameError('the topic route body is not JSON, even allowing integer keys', { cause });
  }
  const r = json as Partial<Record<string, unknown>>;
  if (!Array.isArray(r.queueDatas) || !Array.isArray(r.brokerDatas)) {
    throw new RemotingFrameError('the topic route body has no queueDatas/brokerDatas arrays');
  }
  const route: TopicRouteData = {
    queueDatas: r.queueDatas.map((q: Record<string, unknown>) => ({
      brokerName: String(q.brokerName),
      readQueueNums: Number(q.readQueueNums ?? 0),
      writeQueueNums: Number(q.writeQueueNums ?? 0),
      perm: Number(q.perm ?? 0),
      topicSysFlag: Number(q.topicSysFlag ?? q.topicSynFlag ?? 0),
    })),
    brokerDatas: r.brokerDatas.map((b: Record<string, unknown>) => {
      const addrs: Record<string, string> = {};
      for (const [id, addr] of Object.entries((b.brokerAddrs ?? {}) as Record<string, unknown>)) {
        addrs[id] = String(addr);
      }
      return { cluster: String(b.cluster ?? ''), brokerName: String(b.brokerName), brokerAddrs: addrs };
    }),
    filterServerTable: (r.filterServerTable ?? {}) as Record<string, string[]>,
  };
  if (typeof r.orderTopicConf === 'string') route.orderTopicConf = r.orderTopicConf;
  return route;
}

/** Quotes bare integer object keys outside strings: `{0:"a",1:"b"}` → `{"0":"a","1":"b"}`. */
export function quoteIntegerKeys(text: string): string {
  let out = '';
  let inString = false;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      expectKey = false;
      out += c;
      continue;
    }
    if (c === '{' || c === ',') {
      expectKey = true;
      out += c;
      continue;
    }
    if (expectKey && /[-0-9]/.test(c)) {
      let j = i;
      while (j < text.length && /[-0-9]/.test(text[j]!)) j++;
      let k = j;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      if (text[k] === ':') {
        out += `"${text.slice(i, j)}"`;
        i = j - 1;
        expectKey = false;
        continue;
      }
    }
    if (!/\s/.test(c)) expectKey = false;
    out += c;
  }
  return out;
}
