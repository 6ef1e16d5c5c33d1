import {
  ClosedError,
  ConfigError,
  InternalError,
  InvalidArgumentError,
  isNetworkErrorCode,
  isSwitchyardError,
  isTlsErrorCode,
  MessageTooLargeError,
  PermissionDeniedError,
  ResourceExhaustedError,
  type SwitchyardError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedError,
} from '@switchyard/core/driver';

export const DRIVER = 'mqtt';

interface NativeError {
  readonly code?: unknown;
  readonly message?: unknown;
}

/**
 * Maps what MQTT.js or the socket throws to a portable error. MQTT.js puts the CONNACK / PUBACK /
 * SUBACK reason code on `code` (MQTT 5 reason codes; 1-5 are MQTT 3.1.1 CONNACK return codes,
 * which only a CONNACK carries). `what` says what was being done. MQTT.js never puts the
 * password in its messages, and core's SwitchyardError redacts registered secrets anyway.
 */
export function mapError(
  error: unknown,
  what: string,
  version: 4 | 5 = 5,
  atConnect = false,
): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as NativeError;
  const text = typeof e.message === 'string' ? e.message : String(error);
  const options = { driver: DRIVER, cause: error, details: { nativeCode: e.code ?? null } };
  const say = (summary: string) => `${what}: ${summary} (${text})`;
  if (typeof e.code === 'number') {
    const code = version === 4 && e.code <= 5 && /Connection refused/.test(text) ? v4Connack(e.code) : e.code;
    switch (code) {
      case 0x84:
        return new UnsupportedError(
          say(
            'the broker refused this MQTT protocol version; set protocolVersion: 4 (or auto) for an MQTT 3.1.1 broker',
          ),
          options,
        );
      case 0x85:
        return new ConfigError(
          say('the broker refused the client id; check clientIdPrefix against its rules'),
          options,
        );
      case 0x86:
      case 0x8c:
        return new UnauthenticatedError(say('the broker refused the user name or password'), options);
      case 0x87:
        // At CONNACK "not authorized" is how Mosquitto (and MQTT 3.1.1's code 5) refuses a
        // password; after it, the user's ACL refused a topic.
        if (atConnect) {
          return new UnauthenticatedError(
            say(
              'the broker refused these credentials; check the username and password (or JWT, or client certificate)',
            ),
            options,
          );
        }
        return new PermissionDeniedError(say('not authorized; check the user’s ACL for this topic'), options);
      case 0x88:
      case 0x89:
      case 0x8b:
      case 0x9f:
        return new UnavailableError(say('the broker is unavailable or busy'), options);
      case 0x8a:
        return new PermissionDeniedError(say('the broker banned this client'), options);
      case 0x8e:
        return new UnavailableError(say('another connection took over this client id’s session'), options);
      case 0x90:
      case 0x8f:
        return new InvalidArgumentError(say('the broker refused the topic name or filter'), options);
      case 0x95:
        return new MessageTooLargeError(say('the broker refused the packet size'), options);
      case 0x97:
        return new ResourceExhaustedError(say('quota exceeded'), options);
      case 0x99:
        return new InvalidArgumentError(say('payload format invalid'), options);
      case 0x9e:
      case 0xa1:
      case 0xa2:
        return new UnsupportedError(say('the broker does not support this subscription'), options);
      default:
        if (code >= 0x80)
          return new UnavailableError(say(`MQTT reason code 0x${code.toString(16)}`), options);
    }
  }
  if (isNetworkErrorCode(e.code)) {
    return new UnavailableError(say('the broker cannot be reached'), options);
  }
  if (isTlsErrorCode(e.code)) {
    return new UnavailableError(say('TLS handshake failed; check the certificate settings'), {
      ...options,
      retryable: false,
    });
  }
  if (/connection closed|client disconnecting|socket|offline|keepalive timeout|connack timeout/i.test(text)) {
    return new UnavailableError(say('the connection was lost'), options);
  }
  return new InternalError(say('unexpected error'), options);
}

/** MQTT 3.1.1 CONNACK return codes as their MQTT 5 equivalents. */
function v4Connack(code: number): number {
  return [0, 0x84, 0x85, 0x88, 0x86, 0x87][code] ?? 0x80;
}

export function closedError(what: string): ClosedError {
  return new ClosedError(`${what} is closed`, { driver: DRIVER });
}
