// One MQTT bench phase alone, for `node --cpu-prof` or repeated timing (bench/mqtt.ts runs both
// sides and both phases at both sizes). Warms up once, then runs the phase `rounds` times and
// prints each round's rate and process CPU per message; `both` alternates the two sides each
// round and prints the paired Switchyard / raw ratios, as bench/mqtt.ts does.
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-mqtt.ts \
//   sy|raw|both publish|e2e [bytes] [messages] [rounds]

import { randomBytes } from 'node:crypto';
import { cpuOf, measure, type Phase, rateOf } from './measure.js';
import { type Contender, rawContender, switchyardContender } from './mqtt.js';

const [which = 'sy', phase = 'publish'] = process.argv.slice(2, 4);
const bytes = Number(process.argv[4] ?? 256);
const count = Number(process.argv[5] ?? 5_000);
const rounds = Number(process.argv[6] ?? 5);
const url = 'mqtt://127.0.0.1:1883';
const id = randomBytes(3).toString('hex');
const keys = which === 'both' ? ['sy', 'raw'] : [which];
const sides: Record<string, Contender> = {};
for (const key of keys) sides[key] = await (key === 'raw' ? rawContender : switchyardContender)(url, id);
const body = randomBytes(bytes);
let n = 0;
const run = (key: string) => {
  const topic = `bench/${id}/${key}/${n++}`;
  const side = sides[key]!;
  return phase === 'e2e' ? side.endToEnd(topic, body, count) : side.publish(`${topic}/nobody`, body, count);
};
const show = (key: string, p: Phase) =>
  `${key} ${Math.round(rateOf(p)).toLocaleString('en')} msg/s ${cpuOf(p).toFixed(1)} µs/msg`;
for (const key of keys) await run(key);
for (let i = 0; i < rounds; i++) {
  const phases: Record<string, Phase> = {};
  for (let k = 0; k < keys.length; k++) {
    const key = keys[(k + i) % keys.length]!;
    phases[key] = await measure(count, () => run(key));
  }
  const line = keys.map((key) => show(key, phases[key]!)).join(' | ');
  const { sy, raw } = phases;
  const ratio =
    sy && raw
      ? ` | ×${(rateOf(sy) / rateOf(raw)).toFixed(2)} cpu ×${(cpuOf(sy) / cpuOf(raw)).toFixed(2)}`
      : '';
  console.log(`${phase} ${bytes} B: ${line}${ratio}`);
}
for (const side of Object.values(sides)) await side.close();
