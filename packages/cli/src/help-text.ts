// Help text the commands share: what a target is, the exit codes, where secrets go.

export const TARGET_HELP =
  'a broker URL (memory://, amqp://, cmq+http(s)://, pulsar-http+http(s)://, rocketmq://) or config:<binding>';

export const EXIT_CODES_HELP = `
Exit codes:
  0    ok
  1    usage: bad command line
  2    config: bad URL or scheme, missing/invalid config file, unknown binding, missing env variable, missing driver package
  3    connection: broker unreachable, timeout, wrong credentials, permission denied
  4    not found: the destination, source or group does not exist
  5    rejected: unsupported feature, invalid or too large message, broker limits
  6    partial: some messages were sent/bridged, others failed (those stay at the source)
  7    doctor found an unclassified problem
  10   internal error (a bug)
  130  interrupted (SIGINT/SIGTERM) after a clean stop: nothing lost

Config file: --config FILE, else $SWITCHYARD_CONFIG, else ./switchyard.config.yaml|.yml|.json.

Secrets: never write a password or key into --url/--from/--to: every local user can read the
command line (ps), and shells keep it in their history. Instead, in single quotes so the shell
leaves them alone:
  \${env:NAME}     the value of an environment variable, e.g. 'amqp://app:\${env:RABBIT_PASSWORD}@host'
  \${file:PATH}    the content of a file (one trailing newline dropped)
  (values are used as written: inside a URL they must be percent-encoded where needed)
or --password-file FILE (--from-password-file / --to-password-file for bridge): the file holds the
URL's password, percent-encoded for you. $SWITCHYARD_URL can hold the whole URL. Output shows
URLs with [redacted] credentials.`;

export const PASSWORD_FILE_HELP =
  "a file holding the URL's password (kept off the command line; see Secrets in --help)";
