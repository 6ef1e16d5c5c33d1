// Engine failures carry the exact Tencent Cloud API error code the TDMQ endpoint returns for them,
// so the API handler can put them on the wire unchanged.

export class PulsarError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PulsarError';
  }
}

/** Thrown when a long poll is abandoned because the client went away. */
export class ReceiveAborted extends Error {
  constructor() {
    super('receive aborted');
    this.name = 'ReceiveAborted';
  }
}
