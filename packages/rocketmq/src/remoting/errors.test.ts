import { ErrorCode, Secret } from '@switchyard/core/driver';
import { ResponseCode, request, response } from '@switchyard/rocketmq-remoting';
import { describe, expect, it } from 'vitest';
import { classifyResponse, responseError } from './errors.js';

const reply = (code: number, remark?: string) => response(request(310, {}), code, {}, undefined, remark);

describe('Remoting response errors', () => {
  it('maps a bad signature (SYSTEM_ERROR with AclException) to UNAUTHENTICATED without printing the key', () => {
    const token = new Secret('role-token-that-must-not-print');
    const error = responseError(
      reply(
        ResponseCode.SYSTEM_ERROR,
        `org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=${token.reveal()}, org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:684)`,
      ),
      'send to "orders"',
    );
    expect(error.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(token.reveal());
    expect(error.message).toMatch(/role TOKEN.*role NAME/);
  });

  it('maps an unknown access key to UNAUTHENTICATED and a missing permission to PERMISSION_DENIED', () => {
    expect(classifyResponse(1, 'AclException: No acl config for someone').code).toBe(
      ErrorCode.UNAUTHENTICATED,
    );
    expect(classifyResponse(1, 'AclException: No default permission for rocketmq-x|ns%orders').code).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
    expect(classifyResponse(ResponseCode.NO_PERMISSION, 'the broker forbids').code).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
  });

  it('maps missing topics and groups to NOT_FOUND with a hint', () => {
    const error = responseError(
      reply(ResponseCode.TOPIC_NOT_EXIST, 'No topic route info in name server for the topic: x'),
      'route lookup of "x"',
    );
    expect(error.code).toBe(ErrorCode.NOT_FOUND);
    expect(error.message).toMatch(/create the topic/);
    expect(classifyResponse(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, '').code).toBe(ErrorCode.NOT_FOUND);
  });

  it('marks transient codes retryable and caller errors not', () => {
    for (const code of [1, 2, 14, 24, 25, 215]) expect(classifyResponse(code, 'busy').retryable).toBe(true);
    expect(classifyResponse(ResponseCode.MESSAGE_ILLEGAL, 'the message body size over max value').code).toBe(
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    expect(classifyResponse(ResponseCode.MESSAGE_ILLEGAL, 'bad topic name').code).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(classifyResponse(ResponseCode.REQUEST_CODE_NOT_SUPPORTED, '').code).toBe(ErrorCode.UNSUPPORTED);
  });
});
