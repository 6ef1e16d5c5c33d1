// A promise settled from outside, made with no closure of its own: `new Promise(executor)` with an
// arrow executor allocates the arrow and its context for every promise, on top of the promise and
// its resolving functions. Paths that make one per receive cycle or per ack batch (over 1,000
// destinations, one per ≈ 10 messages) use these instead (docs/bench-profiles.md §28).
//
//   const promise = openPromise<T>();
//   const resolve = takeResolve<T>();
//   const reject = takeReject();
//
// The executor runs synchronously inside `new Promise`, so the resolvers taken right after are
// that promise's: nothing else can run in between.

let lastResolve: ((value: never) => void) | undefined;
let lastReject: ((error: unknown) => void) | undefined;

function executor(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  lastResolve = resolve;
  lastReject = reject;
}

/** A new pending promise; take its resolvers with takeResolve() and takeReject() next. */
export function openPromise<T>(): Promise<T> {
  return new Promise<T>(executor as (resolve: (value: T) => void, reject: (error: unknown) => void) => void);
}

/** The resolve of the promise openPromise() made last. */
export function takeResolve<T>(): (value: T) => void {
  const resolve = lastResolve!;
  lastResolve = undefined;
  return resolve as (value: T) => void;
}

/** The reject of the promise openPromise() made last. */
export function takeReject(): (error: unknown) => void {
  const reject = lastReject!;
  lastReject = undefined;
  return reject;
}
