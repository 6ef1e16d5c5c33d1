// CMQ errors as the wire shows them: a numeric `code` plus a message `(<module>)<text>`
// (protocols/cmq.md §4, §8). The engine throws these so the HTTP handler and the Tencent Cloud
// API handler can map one failure to their own envelopes without guessing.

export class CmqError extends Error {
  override readonly name = 'CmqError';
  constructor(
    /** The `code` field of the reply, e.g. 4440. */
    readonly code: number,
    /** The module code shown in parentheses, e.g. 10100. */
    readonly module: number,
    /** The English text after the module code. */
    readonly text: string,
    /** Extra reply fields, e.g. `errorList` of a partly failed BatchDeleteMessage. */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(`(${module})${text}`);
  }

  withExtra(extra: Record<string, unknown>): CmqError {
    return new CmqError(this.code, this.module, this.text, extra);
  }

  /** The `message` field of the reply. */
  get wireMessage(): string {
    return this.message;
  }
}

// One constructor per documented failure, so call sites read like the fact sheet's tables.
export const cmqErrors = {
  invalidParameter: (detail = 'invalid request parameters') => new CmqError(4000, 10000, detail),
  missingParameter: (name: string) => new CmqError(4000, 10390, `lacked of required parameter ${name}`),
  keyFormat: (name: string) => new CmqError(4000, 10310, `parameter ${name} key format error`),
  notRepeatable: (name: string) =>
    new CmqError(4000, 10330, `parameter ${name} is NOT a repeatable parameter`),
  outOfRange: (name: string) =>
    new CmqError(4000, 10350, `parameter ${name} value or length is out of range`),
  errorType: (name: string) => new CmqError(4000, 10360, `parameter ${name} error type`),
  batchSize: (name: string) => new CmqError(4000, 10370, `${name} parameter batch size is out of range`),
  notConsequent: (name: string) => new CmqError(4000, 10380, `${name} parameter is not consequent`),
  badMethod: (method: string) =>
    new CmqError(4000, 10410, `unexpected http ${method} only GET or POST is supported`),
  unparsable: (what: string) =>
    new CmqError(4000, 10420, `cannot parse ${what}, or request size is more than 1MB`),
  actionNotExisted: () => new CmqError(4000, 10280, 'action is not existed'),
  authFailed: () => new CmqError(4100, 10030, 'authentication failed'),
  secretIdNotExisted: () => new CmqError(4100, 10270, 'secret id is not existed'),
  secretIdStatus: () => new CmqError(4100, 10080, 'secret id status error'),
  secretIdNotAkid: () => new CmqError(4000, 10450, "secret id doesn't begin with AKID"),
  // 4500 is the v2 cloud API's "replay attack" code: a Nonce used twice, or a Timestamp too far from
  // the server's time (the legacy gateway answers both with it). No CMQ module code is documented
  // for either; we keep 10100 for both (see the README).
  expired: (timestamp: string, serverSec: number, windowSeconds: number) =>
    new CmqError(
      4500,
      10100,
      `request is expired: Timestamp ${timestamp} differs from the server time ${serverSec} by more than ${windowSeconds} seconds`,
    ),
  replayed: () =>
    new CmqError(
      4500,
      10100,
      'request is replayed: this Nonce and Timestamp were already used (every request needs a new Nonce)',
    ),
  internal: () => new CmqError(6000, 10050, 'server internal error'),

  queueNotExisted: () => new CmqError(4440, 10100, 'queue is not existed, or deleted'),
  queueNameFormat: () => new CmqError(4000, 10020, 'queue name format error'),
  queueExisted: () => new CmqError(4460, 4460, 'queue is already existed,case insensitive'),
  queueLimit: () => new CmqError(4450, 10220, 'number of queues has reached the limit'),
  recreateTooSoon: () =>
    new CmqError(6040, 10660, 'the name can not be re-used within 10 seconds after deletion'),
  emptyBody: () => new CmqError(4000, 10120, "message body can't be empty"),
  msgTooLarge: () => new CmqError(4400, 10230, 'exceed maximum message size'),
  heapFull: () => new CmqError(4410, 10240, 'reach maximum retention number of message'),
  totalTooLarge: () => new CmqError(4470, 10300, 'total message size exceed 1MB'),
  noMessage: () => new CmqError(7000, 10200, 'no message'),
  receiptHandleInvalid: () => new CmqError(4430, 10260, 'receipt handle is invalid'),
  receiptHandleMalformed: () => new CmqError(4000, 10470, 'receiptHandle error'),
  deletePartiallyFailed: () => new CmqError(6010, 10150, 'delete message partially failed'),
  cannotRewind: () => new CmqError(6050, 10670, 'queue can not be rewound'),
  invalidRewindTime: () => new CmqError(4000, 10680, 'invalid rewind time'),
  rewindOverRetention: () => new CmqError(4000, 10700, 'rewindSeconds is bigger than msgRetentionSeconds'),

  topicNotExisted: () => new CmqError(4440, 10600, 'topic is not existed, or deleted'),
  topicNameFormat: () => new CmqError(4000, 10590, 'topic name format error'),
  topicExisted: () => new CmqError(4460, 10550, 'topic is already existed'),
  topicLimit: () => new CmqError(4450, 10610, 'number of topics has reached the limit'),
  topicHasSubscriptions: () =>
    new CmqError(4000, 10540, 'subscriptions exist under the topic, unsubscribe before delete'),
  subscriptionExisted: () => new CmqError(4490, 10470, 'subscription is already existed'),
  subscriptionNotExisted: () => new CmqError(4440, 10600, 'subscription is not existed, or deleted'),
  subscriptionLimit: () =>
    new CmqError(4500, 10480, 'number of subscriptions of the topic has reached the limit'),
  subscriptionNameFormat: () => new CmqError(4000, 10580, 'subscription name format error'),
  endpointFormat: () => new CmqError(4000, 10500, 'endpoint format error'),
  undefinedProtocol: () => new CmqError(4000, 10510, 'undefined protocol'),
  undefinedStrategy: () => new CmqError(4000, 10520, 'undefined notify retry strategy'),
  undefinedContentFormat: () => new CmqError(4000, 10530, 'undefined notify content format'),
  blankInUrl: () => new CmqError(4510, 10570, 'url can not contain blank characters'),
  illegalEndpoint: () => new CmqError(4000, 10630, 'illegal endpoint'),
  queueNeedsSimplified: () =>
    new CmqError(4000, 10640, 'notifyContentFormat of protocol queue must be SIMPLIFIED'),
  tooManyFilterTags: () => new CmqError(4000, 10670, 'too many filterTag'),
  tooManyBindingKeys: () => new CmqError(4000, 10680, 'too many bindingKey'),
  lackBindingKey: () => new CmqError(4000, 10710, 'parameters lack of bindingKey'),
  lackRoutingKey: () => new CmqError(4000, 10700, 'lack of routingKey'),
  tooManyDelimiters: () => new CmqError(4000, 10691, 'too many delimiters'),
  tooManyMsgTags: () => new CmqError(4000, 10720, 'too many msgTag'),
  noSubscription: () => new CmqError(6030, 10650, 'topic has no subscription'),
  noMatch: () => new CmqError(6030, 10730, 'no bindingKey or filterTag matches the routingKey or msgTag'),
} as const;
