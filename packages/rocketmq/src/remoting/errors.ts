// Remoting response codes → portable errors. Apache brokers report a bad ACL signature or an
// unknown access key as SYSTEM_ERROR (1) with the AclException text as remark (sheet §5.3), so
// ACL failures are recognised by that text. Remarks may echo the access key (the role token):
// SwitchyardError redacts every registered Secret, and the config turns both keys into Secrets.

import { ErrorCode, SwitchyardError } from '@switchyard/core/driver';
import { type RemotingCommand, ResponseCode } from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';

interface Classified {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint?: string;
}

const CREDENTIALS_HINT =
  'check the credentials: accessKey is the role TOKEN, secretKey is the role NAME (TDMQ order)';

/** Classifies a reply's code (and, for ACL failures, its remark). */
export function classifyResponse(code: number, remark: string): Classified {
  const acl = /AclException|signature|accessKey|No acl config|SecurityToken/i.test(remark);
  if (acl && /permission|Need admin/i.test(remark) && !/signature|No acl config/i.test(remark))
    return { code: ErrorCode.PERMISSION_DENIED, retryable: false };
  if (acl) return { code: ErrorCode.UNAUTHENTICATED, retryable: false, hint: CREDENTIALS_HINT };
  switch (code) {
    case ResponseCode.TOPIC_NOT_EXIST:
      return {
        code: ErrorCode.NOT_FOUND,
        retryable: false,
        hint: 'create the topic on the server (TDMQ console or mqadmin updateTopic)',
      };
    case ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST:
      return { code: ErrorCode.NOT_FOUND, retryable: false, hint: 'create the consumer group on the server' };
    case ResponseCode.NO_PERMISSION:
      return { code: ErrorCode.PERMISSION_DENIED, retryable: false };
    case ResponseCode.MESSAGE_ILLEGAL:
      return /size|length|too large|over/i.test(remark)
        ? { code: ErrorCode.MESSAGE_TOO_LARGE, retryable: false }
        : { code: ErrorCode.INVALID_ARGUMENT, retryable: false };
    case ResponseCode.SUBSCRIPTION_PARSE_FAILED:
    case ResponseCode.VERSION_NOT_SUPPORTED:
      return { code: ErrorCode.INVALID_ARGUMENT, retryable: false };
    case ResponseCode.REQUEST_CODE_NOT_SUPPORTED:
      return { code: ErrorCode.UNSUPPORTED, retryable: false };
    case ResponseCode.SYSTEM_BUSY:
    case ResponseCode.FLOW_CONTROL:
      return { code: ErrorCode.RESOURCE_EXHAUSTED, retryable: true };
    // The broker has not seen this client's heartbeat yet, or a newer subscription: it will.
    case ResponseCode.SUBSCRIPTION_NOT_EXIST:
    case ResponseCode.SUBSCRIPTION_NOT_LATEST:
    case ResponseCode.SERVICE_NOT_AVAILABLE:
    case ResponseCode.SLAVE_NOT_AVAILABLE:
    case ResponseCode.FLUSH_DISK_TIMEOUT:
    case ResponseCode.FLUSH_SLAVE_TIMEOUT:
    case ResponseCode.SYSTEM_ERROR:
      return { code: ErrorCode.UNAVAILABLE, retryable: true };
    default:
      return { code: ErrorCode.INTERNAL, retryable: false };
  }
}

/** The error for a non-success reply to `what` (e.g. `send to "orders"`). */
export function responseError(reply: RemotingCommand, what: string): SwitchyardError {
  const remark = reply.remark ?? '';
  const c = classifyResponse(reply.code, remark);
  const hint = c.hint === undefined ? '' : ` (${c.hint})`;
  return new SwitchyardError(
    c.code,
    `rocketmq ${what} failed: code ${reply.code}${remark === '' ? '' : `, ${remark}`}${hint}`,
    { driver: DRIVER, retryable: c.retryable, details: { native: reply.code } },
  );
}
