import { type Capabilities, capabilityDescriptions, type Feature } from './capabilities.js';

export interface CapabilityColumn {
  readonly name: string;
  readonly capabilities: Readonly<Capabilities>;
}

/** The Markdown capability table the docs show, made from the drivers' own capability objects. */
export function capabilityTable(columns: readonly CapabilityColumn[]): string {
  const header = `| Capability | ${columns.map((c) => c.name).join(' | ')} |`;
  const rule = `|---|${columns.map(() => '---').join('|')}|`;
  const rows = (Object.keys(capabilityDescriptions) as Feature[]).map(
    (feature) =>
      `| ${capabilityDescriptions[feature]} | ${columns.map((c) => cell(feature, c.capabilities[feature])).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

function cell(feature: Feature, value: Capabilities[Feature]): string {
  // A boolean says "supported", not who does it (a driver may implement it over a broker that
  // lacks it); 'native' and 'emulated' say who.
  if (value === true) return 'yes';
  if (value === 'native') return 'native';
  if (value === undefined || value === false || value === 'none' || value === 0) return '—';
  if (value === 'emulated') return 'emulated';
  if (value === 'envelope') return 'envelope';
  if (value === Number.POSITIVE_INFINITY) return 'no limit';
  if (typeof value === 'number') {
    if (feature === 'maxMessageBytes' || feature === 'maxBatchBytes') return bytes(value);
    if (feature === 'maxDelayMs') return duration(value);
    return String(value);
  }
  return String(value);
}

function bytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

function duration(ms: number): string {
  if (ms === 0) return '—';
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}
