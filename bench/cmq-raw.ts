// Raw CMQ clients for the bench: each request signed per protocols/cmq.md §3 (fresh Nonce and
// Timestamp) and POSTed as a form. `expertCmq` is what an expert writes against the HTTP API: an
// undici keep-alive pool, BatchSendMessage / BatchReceiveMessage / BatchDeleteMessage of 16, and
// several requests in flight (at-least-once receive: `receiveHandleDelete`; `receiveDelete` deletes
// before anything handles a batch); `plainCmq` is what the official SDKs do: one request per message,
// each awaited, over one keep-alive connection.

import http from 'node:http';
import { signature } from '@switchyard/cmq';
import { Pool } from 'undici';

type Params = Array<[string, string]>;
export type CmqCall = (action: string, params: Params) => Promise<Record<string, unknown>>;

function signed(
  host: string,
  secretId: string,
  secretKey: string,
  action: string,
  params: Params,
  nonce: number,
) {
  const all: Params = [
    ['Action', action],
    ['Nonce', String(nonce)],
    ['SecretId', secretId],
    ['SignatureMethod', 'HmacSHA256'],
    ['Timestamp', String(Math.floor(Date.now() / 1000))],
    ...params,
  ];
  all.push([
    'Signature',
    signature({ method: 'POST', host, path: '/', params: all }, secretKey, 'HmacSHA256'),
  ]);
  return new URLSearchParams(all).toString();
}

function checked(action: string, reply: Record<string, unknown>, accept: readonly number[] = []) {
  if (reply.code !== 0 && !accept.includes(reply.code as number))
    throw new Error(`${action}: ${JSON.stringify(reply).slice(0, 300)}`);
  return reply;
}

/** One request at a time over one keep-alive connection (node:http). */
export function plainCmq(endpoint: string, secretId: string, secretKey: string) {
  const url = new URL('/', endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let nonce = 0;
  const call: CmqCall = (action, params) => {
    const body = signed(url.host, secretId, secretKey, action, params, ++nonce);
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
  return {
    async send(queue: string, bodies: readonly string[]) {
      for (const msgBody of bodies)
        checked(
          'SendMessage',
          await call('SendMessage', [
            ['queueName', queue],
            ['msgBody', msgBody],
            ['delaySeconds', '0'],
          ]),
        );
    },
    async receiveDelete(queue: string, count: number) {
      for (let got = 0; got < count; ) {
        const m = checked(
          'ReceiveMessage',
          await call('ReceiveMessage', [
            ['queueName', queue],
            ['pollingWaitSeconds', '1'],
          ]),
          [7000],
        );
        if (m.code === 7000) continue;
        checked(
          'DeleteMessage',
          await call('DeleteMessage', [
            ['queueName', queue],
            ['receiptHandle', String(m.receiptHandle)],
          ]),
        );
        got++;
      }
    },
    close: () => agent.destroy(),
  };
}

/** Batches of 16 with `inFlight` requests on the wire over an undici keep-alive pool. */
export function expertCmq(endpoint: string, secretId: string, secretKey: string, inFlight: number) {
  const url = new URL('/', endpoint);
  const pool = new Pool(url.origin, { connections: inFlight, pipelining: 1, keepAliveTimeout: 30_000 });
  let nonce = 0;
  let requests = 0;
  const call = async (action: string, params: Params, signal?: AbortSignal) => {
    requests++;
    const body = signed(url.host, secretId, secretKey, action, params, ++nonce);
    const response = await pool.request({
      path: '/',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      ...(signal ? { signal } : {}),
    });
    return JSON.parse(await response.body.text()) as Record<string, unknown>;
  };
  const list = (name: string, values: readonly string[]): Params =>
    values.map((v, i) => [`${name}.${i + 1}`, v]);
  return {
    call,
    /** A queue for a bench phase: 1 MiB messages, no practical heap limit. */
    async createQueue(queueName: string) {
      checked(
        'CreateQueue',
        await call('CreateQueue', [
          ['queueName', queueName],
          ['maxMsgHeapNum', '100000000'],
          ['maxMsgSize', '1048576'],
        ]),
      );
      return queueName;
    },
    async deleteQueue(queueName: string) {
      checked('DeleteQueue', await call('DeleteQueue', [['queueName', queueName]]));
    },
    /** Requests sent so far. */
    get requests() {
      return requests;
    },
    /** Cuts `bodies` into batches of 16 (at most 1 MiB each) and keeps `inFlight` batches on the wire. */
    async send(queue: string, bodies: readonly string[]) {
      const batches: string[][] = [];
      for (let i = 0, bytes = 0, batch: string[] = []; i < bodies.length; i++) {
        const b = bodies[i]!;
        if (batch.length === 16 || (batch.length > 0 && bytes + b.length > 1_048_576)) {
          batches.push(batch);
          batch = [];
          bytes = 0;
        }
        batch.push(b);
        bytes += b.length;
        if (i === bodies.length - 1) batches.push(batch);
      }
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < batches.length) {
            const batch = batches[next++]!;
            const single = batch.length === 1;
            const bodyParams: Params = single ? [['msgBody', batch[0]!]] : list('msgBody', batch);
            const action = single ? 'SendMessage' : 'BatchSendMessage';
            checked(action, await call(action, [['queueName', queue], ...bodyParams, ['delaySeconds', '0']]));
          }
        }),
      );
    },
    /**
     * `receivers` loops each long-poll BatchReceiveMessage of 16 and hand the handles to one
     * BatchDeleteMessage without waiting for it (deletes stay in flight while the next receive runs).
     * Once `count` arrived, the other loops' long polls are aborted, as a consumer's stop would.
     * `hold`: each reply stays reachable until its delete is answered (profile-cmq.ts HOLD=1).
     */
    async receiveDelete(queue: string, count: number, receivers: number, hold = false) {
      let got = 0;
      const deletes: Array<Promise<unknown>> = [];
      const stop = new AbortController();
      await Promise.all(
        Array.from({ length: receivers }, async () => {
          while (got < count) {
            const params: Params = [
              ['queueName', queue],
              ['numOfMsg', '16'],
              ['pollingWaitSeconds', '1'],
            ];
            const reply = await call('BatchReceiveMessage', params, stop.signal).catch((error: unknown) => {
              if (stop.signal.aborted) return { code: 7000 };
              throw error;
            });
            const r = checked('BatchReceiveMessage', reply, [7000]);
            const handles = ((r.msgInfoList as Array<{ receiptHandle: string }> | undefined) ?? []).map(
              (m) => m.receiptHandle,
            );
            if (handles.length === 0) continue;
            got += handles.length;
            if (got >= count) stop.abort();
            deletes.push(
              call('BatchDeleteMessage', [['queueName', queue], ...list('receiptHandle', handles)]).then(
                (d) => {
                  // `hold`: the reply (its bodies) stays reachable until its delete is answered.
                  if (hold && r.msgInfoList === undefined) throw new Error('unreachable');
                  return checked('BatchDeleteMessage', d);
                },
              ),
            );
          }
        }),
      );
      await Promise.all(deletes);
    },
    /**
     * At-least-once, the way an expert writes it for a backlog: `receivers` loops of
     * BatchReceiveMessage of 16. Each loop sends its next receive as soon as a reply is in, so a
     * receive is on the wire while the batch just received is handled; `handle` gets every
     * message's body, and the batch's handles go to one BatchDeleteMessage only after every
     * handler of the batch finished (awaited only when a handler returned a promise), left in
     * flight. Receives long-poll as `receiveDelete`'s do (the emulator answers at once when a message
     * is visible). Once `count` arrived, the receives still out are aborted, as a consumer's stop would.
     */
    async receiveHandleDelete(
      queue: string,
      count: number,
      receivers: number,
      handle: (body: string) => unknown,
    ) {
      let got = 0;
      const deletes: Array<Promise<unknown>> = [];
      const stop = new AbortController();
      const receive = () =>
        call(
          'BatchReceiveMessage',
          [
            ['queueName', queue],
            ['numOfMsg', '16'],
            ['pollingWaitSeconds', '1'],
          ],
          stop.signal,
        ).catch((error: unknown) => {
          if (stop.signal.aborted) return { code: 7000 };
          throw error;
        });
      await Promise.all(
        Array.from({ length: receivers }, async () => {
          let next: Promise<Record<string, unknown>> | undefined = receive();
          while (next !== undefined) {
            const r = checked('BatchReceiveMessage', await next, [7000]);
            const list =
              (r.msgInfoList as Array<{ msgBody: string; receiptHandle: string }> | undefined) ?? [];
            got += list.length;
            if (got >= count) stop.abort();
            next = got < count ? receive() : undefined;
            if (list.length === 0) continue;
            const pending: Array<Promise<unknown>> = [];
            for (let i = 0; i < list.length; i++) {
              const done = handle(list[i]!.msgBody);
              if (done instanceof Promise) pending.push(done);
            }
            if (pending.length > 0) await Promise.all(pending);
            const handles: Params = [['queueName', queue]];
            for (let i = 0; i < list.length; i++)
              handles.push([`receiptHandle.${i + 1}`, list[i]!.receiptHandle]);
            deletes.push(call('BatchDeleteMessage', handles).then((d) => checked('BatchDeleteMessage', d)));
          }
        }),
      );
      await Promise.all(deletes);
    },
    close: () => pool.close(),
  };
}
