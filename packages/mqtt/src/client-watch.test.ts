import { expect, it } from 'vitest';
import { PacketIds } from './client-watch.js';

it('holds MQTT packet ids across the whole range, each once, and delete says whether it was there', () => {
  const ids = new PacketIds();
  for (const id of [1, 31, 32, 33, 4_660, 65_535]) ids.add(id);
  ids.add(32); // already there
  expect(ids.size).toBe(6);
  expect(ids.delete(2)).toBe(false);
  expect(ids.delete(32)).toBe(true);
  expect(ids.delete(32)).toBe(false);
  expect(ids.delete(33)).toBe(true);
  expect(ids.delete(31)).toBe(true);
  expect(ids.size).toBe(3);
  for (const id of [1, 4_660, 65_535]) expect(ids.delete(id)).toBe(true);
  expect(ids.size).toBe(0);
});
