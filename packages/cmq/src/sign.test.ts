import { describe, expect, it } from 'vitest';
import { signature, stringToSign } from './sign.js';

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
