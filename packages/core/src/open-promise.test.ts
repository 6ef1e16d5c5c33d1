import { expect, it } from 'vitest';
import { openPromise, takeReject, takeResolve } from './open-promise.js';

it('hands out the resolvers of the promise made last, each once', async () => {
  const first = openPromise<number>();
  const resolveFirst = takeResolve<number>();
  const rejectFirst = takeReject();
  const second = openPromise<string>();
  const resolveSecond = takeResolve<string>();
  takeReject();
  resolveSecond('two');
  resolveFirst(1);
  rejectFirst(new Error('too late'));
  expect(await first).toBe(1);
  expect(await second).toBe('two');
  const failing = openPromise<void>();
  takeResolve<void>();
  takeReject()(new Error('no'));
  await expect(failing).rejects.toThrow('no');
});
