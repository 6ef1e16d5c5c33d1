// Ready-to-paste broker URLs for a running emulator, one per flavour, from its ready line. The
// emulator's built-in pair (AKIDEMULATOR / emulator-secret-key) is a local test credential, not a
// user secret, so it is printed as is; a key the user gave the emulator (a file, an environment
// variable) is never printed: the URL names it with ${file:…} / ${env:…}, which the CLI resolves.

/** The emulator's first stdout line. */
export interface ReadyLine {
  readonly cmq: string;
  readonly api: string;
  readonly rocketmq: string;
  readonly remoting: string;
  readonly adminToken?: string;
}

/** The emulator's default credential (packages/emulator/src/start.ts DEFAULT_CREDENTIALS). */
export const EMULATOR_SECRET_ID = 'AKIDEMULATOR';
export const EMULATOR_SECRET_KEY = 'emulator-secret-key';
const SECRET_ID_ENV = 'SWITCHYARD_EMULATOR_SECRET_ID';
const SECRET_KEY_ENV = 'SWITCHYARD_EMULATOR_SECRET_KEY';

/** The SecretId and the key as it goes into a URL: literal, or a reference the CLI resolves. */
export interface UrlCredential {
  readonly secretId: string;
  readonly key: string;
}

/** Which credential the emulator started with, from the flags given to it and the environment. */
export function credentialFromFlags(
  flags: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): UrlCredential {
  const ids = values(flags, '--secret-id');
  const files = values(flags, '--secret-key-file');
  const id = ids[0] ?? nonEmpty(env[SECRET_ID_ENV]);
  if (id === undefined) return { secretId: EMULATOR_SECRET_ID, key: EMULATOR_SECRET_KEY };
  const encodedId = encodeURIComponent(id);
  if (files[0] !== undefined) return { secretId: encodedId, key: `\${file:${files[0]}}` };
  if (values(flags, '--secret-key').length > 0)
    // Given on the command line: not repeated here. The user substitutes it (or an env reference).
    return { secretId: encodedId, key: `\${env:SECRET_KEY}` };
  return { secretId: encodedId, key: `\${env:${SECRET_KEY_ENV}}` };
}

/** One URL per flavour the emulator serves, keyed by flavour. */
export function emulatorUrls(ready: ReadyLine, credential: UrlCredential): Record<string, string> {
  const user = `${credential.secretId}:${credential.key}@`;
  const host = (endpoint: string) => new URL(endpoint).host;
  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();
  return {
    cmq: `cmq+http://${user}${host(ready.cmq)}?${query({ region: 'ap-guangzhou', managementEndpoint: ready.api })}`,
    'pulsar-http': `pulsar-http+http://${user}${host(ready.api)}?${query({
      region: 'ap-guangzhou',
      cluster: 'pulsar-emulator',
      namespace: 'default',
    })}`,
    rocketmq: `rocketmq://${user}${ready.rocketmq}`,
    'rocketmq-remoting': `rocketmq+remoting://${user}${ready.remoting}`,
  };
}

/** The lines for people: each URL, and where the admin token goes. */
export function urlLines(urls: Record<string, string>, ready: ReadyLine): string[] {
  const width = Math.max(...Object.keys(urls).map((k) => k.length));
  return [
    'emulator ready; paste a URL as --url or $SWITCHYARD_URL, in single quotes (it holds ? and &):',
    ...Object.entries(urls).map(([flavour, url]) => `  ${flavour.padEnd(width)}  ${url}`),
    ...(ready.adminToken === undefined
      ? []
      : [`admin routes /_emulator/*: Authorization: Bearer ${ready.adminToken}`]),
  ];
}

/** The values of a repeatable `--flag value` / `--flag=value`, in order. */
function values(flags: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (flag === name && i + 1 < flags.length) out.push(flags[++i]!);
    else if (flag.startsWith(`${name}=`)) out.push(flag.slice(name.length + 1));
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
