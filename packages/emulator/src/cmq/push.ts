// Delivery to protocol=http subscriptions (protocols/cmq.md §6 "Delivery"): one POST per message
// to exactly the subscription's endpoint (redirects are not followed), 2xx = delivered, anything
// else or a timeout = retry per the notify strategy, then drop. `retryScale` shrinks the real
// 10–20 s / 2^n s intervals so tests can watch retries happen.

import http from 'node:http';
import https from 'node:https';
import type { NotifyContentFormat, NotifyStrategy } from './types.js';

export interface PushTarget {
  readonly topicName: string;
  readonly subscriptionName: string;
  readonly endpoint: string;
  readonly notifyStrategy: NotifyStrategy;
  readonly notifyContentFormat: NotifyContentFormat;
}

export interface PushMessage {
  readonly msgId: string;
  readonly body: string;
  readonly tags: readonly string[];
  readonly publishAt: number;
}

export interface PushStats {
  delivered: number;
  failedAttempts: number;
  dropped: number;
  pending: number;
}

export interface PusherOptions {
  readonly topicOwner: number;
  readonly retryScale: number;
  readonly timeoutMs: number;
  readonly random: () => number;
}

const BACKOFF_RETRIES = 3;
const EXPONENTIAL_RETRIES = 176;

export class HttpPusher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<http.ClientRequest>();
  private readonly stats = new Map<string, PushStats>();
  private closed = false;
  private requestSeq = 0;

  constructor(private readonly options: PusherOptions) {}

  push(target: PushTarget, message: PushMessage): void {
    const stats = this.statsFor(target);
    stats.pending++;
    this.attempt(target, message, 0, stats);
  }

  statsFor(target: Pick<PushTarget, 'topicName' | 'subscriptionName'>): PushStats {
    const key = `${target.topicName}/${target.subscriptionName}`;
    let stats = this.stats.get(key);
    if (stats === undefined) {
      stats = { delivered: 0, failedAttempts: 0, dropped: 0, pending: 0 };
      this.stats.set(key, stats);
    }
    return stats;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.requests) r.destroy();
    this.requests.clear();
  }

  private attempt(target: PushTarget, message: PushMessage, retriesDone: number, stats: PushStats): void {
    if (this.closed) return;
    this.post(target, message).then((ok) => {
      if (ok) {
        stats.delivered++;
        stats.pending--;
        return;
      }
      stats.failedAttempts++;
      const delayMs = this.retryDelayMs(target.notifyStrategy, retriesDone);
      if (delayMs === undefined || this.closed) {
        stats.dropped++;
        stats.pending--;
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.attempt(target, message, retriesDone + 1, stats);
      }, delayMs);
      this.timers.add(timer);
    });
  }

  private retryDelayMs(strategy: NotifyStrategy, retriesDone: number): number | undefined {
    const scale = this.options.retryScale;
    if (strategy === 'BACKOFF_RETRY') {
      if (retriesDone >= BACKOFF_RETRIES) return undefined;
      return (10_000 + this.options.random() * 10_000) * scale;
    }
    if (retriesDone >= EXPONENTIAL_RETRIES) return undefined;
    return Math.min(2 ** retriesDone, 512) * 1000 * scale;
  }

  private post(target: PushTarget, message: PushMessage): Promise<boolean> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(target.endpoint);
      } catch {
        resolve(false);
        return;
      }
      const body =
        target.notifyContentFormat === 'SIMPLIFIED'
          ? message.body
          : JSON.stringify({
              TopicOwner: this.options.topicOwner,
              topicName: target.topicName,
              subscriptionName: target.subscriptionName,
              msgId: message.msgId,
              msgBody: message.body,
              publishTime: Math.floor(message.publishAt / 1000),
            });
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(url, {
        method: 'POST',
        agent: false,
        timeout: this.options.timeoutMs,
        headers: {
          'Content-Type': 'text/plain',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'Qcloud Notification Service Agent',
          'x-cmq-request-id': `push-${++this.requestSeq}`,
          'x-cmq-message-id': message.msgId,
          'x-cmq-message-tag': message.tags.join(','),
        },
      });
      this.requests.add(request);
      const done = (ok: boolean) => {
        this.requests.delete(request);
        resolve(ok);
      };
      request.on('response', (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        response.on('end', () => done(status >= 200 && status < 300));
        response.on('error', () => done(false));
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => done(false));
      request.end(body);
    });
  }
}
