import { describe, expect, it } from 'vitest';
import { authenticate, parseAuthorization, parseDateTime, signature } from './auth.js';
import { RocketMqError } from './statuses.js';

const credentials = [{ secretId: 'AK1', secretKey: 'SK1secret' }];
const at = parseDateTime('20240101T000000Z')!;
const options = { credentials, allowAnonymous: false, dateWindowSeconds: 900, now: () => at };
const header = (sig: string, ak = 'AK1') =>
  `MQv2-HMAC-SHA1 Credential=${ak}, SignedHeaders=x-mq-date-time, Signature=${sig}`;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RocketMqError ? error.code : 'THREW';
  }
}

describe('MQv2-HMAC-SHA1', () => {
  it('matches the worked examples of the protocol sheet', () => {
    expect(signature('mySecretKey', '20230913T063059Z')).toBe('7DE337177581A78A69EB949693847C253A072D53');
    expect(signature('SK1secret', '20240101T000000Z')).toBe('F301AAA4AC370F8D1F69269C318EA52060935AC9');
  });

  it('parses the header like the Java proxy (Credential split on /)', () => {
    expect(
      parseAuthorization('MQv2-HMAC-SHA1 Credential=AK/x/y, SignedHeaders=x-mq-date-time, Signature=AB'),
    ).toEqual({
      credential: 'AK',
      signature: 'AB',
    });
  });

  it('accepts the right signature and rejects every wrong input with UNAUTHORIZED', () => {
    const good = {
      authorization: header('F301AAA4AC370F8D1F69269C318EA52060935AC9'),
      'x-mq-date-time': '20240101T000000Z',
    };
    expect(authenticate(good, options)).toBe('AK1');
    expect(
      code(() =>
        authenticate({ ...good, authorization: header('F301AAA4AC370F8D1F69269C318EA52060935AC8') }, options),
      ),
    ).toBe('UNAUTHORIZED');
    expect(
      code(() =>
        authenticate(
          { ...good, authorization: header('F301AAA4AC370F8D1F69269C318EA52060935AC9', 'AK2') },
          options,
        ),
      ),
    ).toBe('UNAUTHORIZED');
    expect(code(() => authenticate({ ...good, 'x-mq-date-time': 'yesterday' }, options))).toBe(
      'UNAUTHORIZED',
    );
    expect(code(() => authenticate({ ...good, authorization: 'Basic abc' }, options))).toBe('UNAUTHORIZED');
    expect(code(() => authenticate({ 'x-mq-date-time': '20240101T000000Z' }, options))).toBe('UNAUTHORIZED');
    expect(authenticate({}, { ...options, allowAnonymous: true })).toBeUndefined();
  });

  it('checks the date window, and not when it is 0', () => {
    const later = { ...options, now: () => at + 901_000 };
    const good = {
      authorization: header('F301AAA4AC370F8D1F69269C318EA52060935AC9'),
      'x-mq-date-time': '20240101T000000Z',
    };
    expect(code(() => authenticate(good, later))).toBe('UNAUTHORIZED');
    expect(authenticate(good, { ...later, dateWindowSeconds: 0 })).toBe('AK1');
  });
});
