import {
  ClosedError,
  type ErrorCode,
  InternalError,
  isSwitchyardError,
  SwitchyardError,
} from '@switchyard/core/driver';

export const DRIVER = 'pulsar-http';

// Tencent Cloud API codes → portable codes. The API answers every failure as HTTP 200 with
// {Error: {Code, Message}}; the SDK raises it as TencentCloudSDKHttpException with `code`.
// Rules are tried in order; the first whose pattern matches the code (exactly, or as the prefix
// before a dot) wins. `retry` marks what can succeed when sent again unchanged.

interface Rule {
  readonly match: string;
  readonly code: ErrorCode;
  readonly retry?: boolean;
}

const RULES: readonly Rule[] = [
  // Specific codes first: their families map differently.
  { match: 'AuthFailure.UnauthorizedOperation', code: 'PERMISSION_DENIED' },
  { match: 'AuthFailure', code: 'UNAUTHENTICATED' },
  { match: 'InvalidParameter.TokenNotFound', code: 'UNAUTHENTICATED' },
  { match: 'InvalidParameter.TenantNotFound', code: 'NOT_FOUND' },
  { match: 'InvalidParameterValue.TopicNotFound', code: 'NOT_FOUND' },
  { match: 'ResourceUnavailable.FundRequired', code: 'PERMISSION_DENIED' },
  { match: 'FailedOperation.MaxMessageSizeError', code: 'MESSAGE_TOO_LARGE' },
  { match: 'FailedOperation.TopicTypeError', code: 'INVALID_ARGUMENT' },
  { match: 'FailedOperation.MessageIDError', code: 'INVALID_ARGUMENT' },
  { match: 'FailedOperation.SendMessageTimeoutError', code: 'TIMEOUT', retry: true },
  { match: 'FailedOperation.CreateProducerError', code: 'UNAVAILABLE', retry: true },
  { match: 'FailedOperation.CreatePulsarClientError', code: 'UNAVAILABLE', retry: true },
  { match: 'FailedOperation.ReceiveError', code: 'UNAVAILABLE', retry: true },
  { match: 'FailedOperation.OperateLater', code: 'UNAVAILABLE', retry: true },
  { match: 'FailedOperation.CloudService', code: 'UNAVAILABLE', retry: true },
  { match: 'InternalError', code: 'UNAVAILABLE', retry: true },
  { match: 'ServiceUnavailable', code: 'UNAVAILABLE', retry: true },
  { match: 'ResourceUnavailable', code: 'UNAVAILABLE', retry: true },
  { match: 'RequestLimitExceeded', code: 'RESOURCE_EXHAUSTED', retry: true },
  { match: 'LimitExceeded', code: 'RESOURCE_EXHAUSTED', retry: false },
  { match: 'ResourceInsufficient', code: 'RESOURCE_EXHAUSTED', retry: false },
  { match: 'ResourcesSoldOut', code: 'RESOURCE_EXHAUSTED', retry: false },
  { match: 'RequestSizeLimitExceeded', code: 'MESSAGE_TOO_LARGE' },
  { match: 'ResponseSizeLimitExceeded', code: 'RESOURCE_EXHAUSTED', retry: false },
  { match: 'ResourceNotFound', code: 'NOT_FOUND' },
  { match: 'ResourceInUse', code: 'ALREADY_EXISTS' },
  { match: 'UnauthorizedOperation', code: 'PERMISSION_DENIED' },
  { match: 'OperationDenied', code: 'PERMISSION_DENIED' },
  { match: 'IpInBlacklist', code: 'PERMISSION_DENIED' },
  { match: 'IpNotInWhitelist', code: 'PERMISSION_DENIED' },
  { match: 'InvalidParameter', code: 'INVALID_ARGUMENT' },
  { match: 'InvalidParameterValue', code: 'INVALID_ARGUMENT' },
  { match: 'MissingParameter', code: 'INVALID_ARGUMENT' },
  { match: 'UnknownParameter', code: 'INVALID_ARGUMENT' },
  { match: 'InvalidRequest', code: 'INVALID_ARGUMENT' },
  { match: 'InvalidAction', code: 'UNSUPPORTED' },
  { match: 'ActionOffline', code: 'UNSUPPORTED' },
  { match: 'NoSuchVersion', code: 'UNSUPPORTED' },
  { match: 'NoSuchProduct', code: 'UNSUPPORTED' },
  { match: 'UnsupportedOperation', code: 'UNSUPPORTED' },
  { match: 'UnsupportedRegion', code: 'UNSUPPORTED' },
  { match: 'UnsupportedProtocol', code: 'UNSUPPORTED' },
  { match: 'DryRunOperation', code: 'INVALID_ARGUMENT' },
  { match: 'FailedOperation', code: 'INTERNAL' },
];

export function ruleFor(apiCode: string): Rule | undefined {
  return RULES.find((r) => apiCode === r.match || apiCode.startsWith(`${r.match}.`));
}

/** What a failed SDK call looks like (TencentCloudSDKHttpException, node-fetch errors, ...). */
interface SdkErrorLike {
  message?: unknown;
  code?: unknown;
  httpCode?: unknown;
  requestId?: unknown;
  name?: unknown;
  type?: unknown;
}

/** Turns anything an SDK call threw into a portable error naming the action. */
export function mapError(error: unknown, action: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const text = typeof e.message === 'string' ? e.message : String(error);
  const requestId = typeof e.requestId === 'string' && e.requestId !== '' ? e.requestId : undefined;
  const details: Record<string, unknown> = { action };
  if (requestId) details.requestId = requestId;
  if (typeof e.code === 'string' && e.code !== '') {
    details.apiCode = e.code;
    const rule = ruleFor(e.code);
    const code = rule?.code ?? 'INTERNAL';
    return new SwitchyardError(
      code,
      `${action} failed: ${e.code}: ${text}${requestId ? ` (RequestId ${requestId})` : ''}`,
      {
        driver: DRIVER,
        cause: error,
        details,
        ...(rule?.retry === undefined ? {} : { retryable: rule.retry }),
      },
    );
  }
  if (typeof e.httpCode === 'number') {
    details.httpStatus = e.httpCode;
    const status = e.httpCode;
    const code: ErrorCode =
      status === 413
        ? 'MESSAGE_TOO_LARGE'
        : status === 401
          ? 'UNAUTHENTICATED'
          : status === 403
            ? 'PERMISSION_DENIED'
            : status === 429
              ? 'RESOURCE_EXHAUSTED'
              : status >= 500
                ? 'UNAVAILABLE'
                : 'INTERNAL';
    return new SwitchyardError(code, `${action} failed: HTTP ${status} ${text}`, {
      driver: DRIVER,
      cause: error,
      details,
      retryable: status === 429 || status >= 500,
    });
  }
  if (/user aborted|AbortError/i.test(text) || e.name === 'AbortError') {
    return new ClosedError(`${action} aborted`, { driver: DRIVER, cause: error, details });
  }
  if (/network timeout|ETIMEDOUT|timed? ?out/i.test(text)) {
    return new SwitchyardError('TIMEOUT', `${action} timed out: ${text}`, {
      driver: DRIVER,
      cause: error,
      details,
      retryable: true,
    });
  }
  // Connection refused / reset, socket hang up, a cut-off or non-JSON body (FetchError
  // invalid-json), a reply without `Response` (TypeError): the request may not have been served.
  if (
    e.name === 'FetchError' ||
    e.type !== undefined ||
    error instanceof TypeError ||
    /ECONN|EPIPE|socket|network|request to .* failed|invalid json|Unexpected end|hang up/i.test(text)
  ) {
    return new SwitchyardError('UNAVAILABLE', `${action} failed: ${text}`, {
      driver: DRIVER,
      cause: error,
      details,
      retryable: true,
    });
  }
  return new InternalError(`${action} failed: ${text}`, { driver: DRIVER, cause: error, details });
}
