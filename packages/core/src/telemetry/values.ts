// How telemetry records two kinds of value: an error as its portable code (its class name when
// it has none), and a duration in seconds, as the OpenTelemetry messaging conventions want.

export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return (error as Error | null)?.name ?? 'UNKNOWN';
}

export const seconds = (ms: number) => ms / 1_000;
