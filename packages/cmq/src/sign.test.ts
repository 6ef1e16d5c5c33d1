import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formEncode } from './form.js';
import { signature, signedForm, stringToSign } from './sign.js';

// The worked examples of protocols/cmq.md §3.1.
const KEY = 'MySecretKey0123456789abcdefABCDEF';
const ID = 'AKIDexampleid000000000000000000000000';
const HOST = '127.0.0.1:9100';

describe('CMQ signature (sheet §3.1)', () => {
  it('(0) reproduces the official doc example', () => {
    const params: Array<[string, string]> = [
      ['Action', 'SendMessage'],
      ['Nonce', '2889712707386595659'],
      ['RequestClient', 'SDK_Python_1.3'],
      ['SecretId', 'AKIDPcYDclDJCn8D0Xypa4f3pKYUCVYLn3zT'],
      ['SignatureMethod', 'HmacSHA1'],
      ['Timestamp', '1534154812'],
      ['clientRequestId', '1231231231'],
      ['delaySeconds', '0'],
      ['msgBody', 'msg'],
      ['queueName', 'test1'],
    ];
    const input = { method: 'POST', host: 'cmq-queue-gz.api.tencentyun.com', path: '/v2/index.php', params };
    expect(stringToSign(input)).toBe(
      'POSTcmq-queue-gz.api.tencentyun.com/v2/index.php?Action=SendMessage&Nonce=2889712707386595659&RequestClient=SDK_Python_1.3&SecretId=AKIDPcYDclDJCn8D0Xypa4f3pKYUCVYLn3zT&SignatureMethod=HmacSHA1&Timestamp=1534154812&clientRequestId=1231231231&delaySeconds=0&msgBody=msg&queueName=test1',
    );
    expect(signature(input, 'pPgfLipfEXZ7VcRzhAMIyPaU7UbQyFFx', 'HmacSHA1')).toBe(
      'C16WEtEXsD5v5tnaUMLAbZewXhI=',
    );
  });

  const sendParams = (method: string): Array<[string, string]> => [
    ['queueName', 'test-queue'],
    ['msgBody', 'hello world & ü=1+2'],
    ['delaySeconds', '0'],
    ['Action', 'SendMessage'],
    ['Nonce', '1234567890'],
    ['RequestClient', 'SDK_Python_1.3'],
    ['SecretId', ID],
    ['SignatureMethod', method],
    ['Timestamp', '1700000000'],
  ];

  it('(A) HmacSHA256 with raw values containing & = + and non-ASCII, in any input order', () => {
    const input = { method: 'post', host: HOST, path: '/v2/index.php', params: sendParams('HmacSHA256') };
    expect(stringToSign(input)).toBe(
      `POST${HOST}/v2/index.php?Action=SendMessage&Nonce=1234567890&RequestClient=SDK_Python_1.3&SecretId=${ID}&SignatureMethod=HmacSHA256&Timestamp=1700000000&delaySeconds=0&msgBody=hello world & ü=1+2&queueName=test-queue`,
    );
    expect(signature(input, KEY, 'HmacSHA256')).toBe('4AjTYZ0JQFD3+BbTqv9LYKyGmkaRk72/Xw9LhjTk/Yg=');
  });

  it('(B) HmacSHA1', () => {
    const input = { method: 'POST', host: HOST, path: '/v2/index.php', params: sendParams('HmacSHA1') };
    expect(signature(input, KEY, 'HmacSHA1')).toBe('qX0lnXLtSXrR39atofnFWRoE9zU=');
  });

  it('(C) upper-case names sort before lower-case ones', () => {
    const params: Array<[string, string]> = [
      ['Action', 'BatchReceiveMessage'],
      ['Nonce', '42'],
      ['RequestClient', 'SDK_Python_1.3'],
      ['SecretId', ID],
      ['SignatureMethod', 'HmacSHA1'],
      ['Timestamp', '1700000000'],
      ['numOfMsg', '16'],
      ['pollingWaitSeconds', '5'],
      ['queueName', 'test-queue'],
      ['UserpollingWaitSeconds', '5'],
    ];
    const input = { method: 'POST', host: HOST, path: '/v2/index.php', params };
    expect(stringToSign(input)).toContain('Timestamp=1700000000&UserpollingWaitSeconds=5&numOfMsg=16');
    expect(signature(input, KEY, 'HmacSHA1')).toBe('GzNatD4E8QWDKBdW9totMIP6Aq8=');
  });

  it('(D) batch arrays sort as strings (msgBody.10 before msgBody.2), path /', () => {
    const params: Array<[string, string]> = [
      ['Action', 'BatchSendMessage'],
      ['Nonce', '7'],
      ['RequestClient', 'SDK_GO_1.2.0'],
      ['SecretId', ID],
      ['SignatureMethod', 'HmacSHA256'],
      ['Timestamp', '1700000000'],
      ['delaySeconds', '0'],
      ['queueName', 'q1'],
      ...Array.from({ length: 11 }, (_, i): [string, string] => [`msgBody.${i + 1}`, `m${i + 1}`]),
    ];
    const input = { method: 'POST', host: HOST, path: '/', params };
    expect(stringToSign(input)).toContain('msgBody.1=m1&msgBody.10=m10&msgBody.11=m11&msgBody.2=m2');
    expect(signature(input, KEY, 'HmacSHA256')).toBe('Gtz6l9crUhKwMgA0E1QurCqoh9tegWSxrFtWpIKoL70=');
  });

  it('(E) shows `_` in names as `.`, sorting by the original name', () => {
    const input = { method: 'POST', host: HOST, path: '/', params: [['my_param', 'v'] as [string, string]] };
    expect(stringToSign(input)).toBe(`POST${HOST}/?my.param=v`);
  });
});

describe('the signed form body', () => {
  const urlSearchParams = (text: string) => new URLSearchParams([['v', text]]).toString().slice(2);

  it('encodes every value byte for byte as URLSearchParams does', () => {
    const every = Array.from({ length: 0x800 }, (_, c) => String.fromCharCode(c)).join('');
    const samples = [
      '',
      'plain-text_0.9*',
      "hello world & ü=1+2 %41 ~!'()",
      every,
      '😀 emoji 中文 \u2028',
      'lone \ud800 surrogate \udc00 end \ud83d',
      JSON.stringify({ a: [1, 'b c'], d: { e: null } }).repeat(200),
      'x'.repeat(70_000),
    ];
    for (const text of samples) expect(formEncode(text), text.slice(0, 40)).toBe(urlSearchParams(text));
  });

  it('is URLSearchParams of the sorted parameters plus the signature, for either key form', () => {
    const common: Array<[string, string]> = [
      ['queueName', 'test-queue'],
      ['Action', 'BatchSendMessage'],
      ['Nonce', '1234567890'],
      ['SecretId', ID],
      ['SignatureMethod', 'HmacSHA256'],
      ['Timestamp', '1700000000'],
    ];
    const long = 'x'.repeat(100_000);
    const sets: Array<Array<[string, string]>> = [
      [], // nothing but the signature
      common, // short values that need no escaping
      [...common, ['msgBody.2', long], ['msgBody.1', 'y'.repeat(5_000)]], // long ones: the body is signed
      [...common, ['msgBody.1', long], ['my_param', 'v']], // a name signed otherwise than sent
      [...common, ['msgBody.1', 'hello world & ü=1+2'], ['msgBody.2', `ü${long}`], ['msgBody.3', long]],
      [['msgBody.1', `😀 ${'{"a": 1}'.repeat(3_000)} \ud800`]],
    ];
    for (const params of sets)
      for (const host of [HOST, 'hôst.example:9100'])
        for (const method of ['HmacSHA256', 'HmacSHA1'] as const) {
          const input = { method: 'POST', host, path: '/v2/index.php', params };
          const expected = new URLSearchParams([
            ...[...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
            ['Signature', signature(input, KEY, method)],
          ]).toString();
          expect(signedForm(input, KEY, method).toString('latin1')).toBe(expected);
          expect(signedForm(input, createSecretKey(KEY, 'utf8'), method).toString('latin1')).toBe(expected);
        }
  });
});
