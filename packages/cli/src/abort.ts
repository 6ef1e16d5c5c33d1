// Waits that end on the CLI's interrupt signal. The signal lives as long as the command, so every
// listener added to it is removed again when its wait ends: a listener per wait that stayed would
// pile up (MaxListenersExceededWarning after ten, unbounded growth after that). Timed waits use
// core's sleep(), which does the same.

/** A promise of `value` once `signal` aborts; `dispose()` removes its listener when no longer needed. */
export function whenAborted<T>(signal: AbortSignal, value: T): { promise: Promise<T>; dispose(): void } {
  let listener: (() => void) | undefined;
  const promise = new Promise<T>((resolve) => {
    if (signal.aborted) return resolve(value);
    listener = () => resolve(value);
    signal.addEventListener('abort', listener, { once: true });
  });
  return {
    promise,
    dispose: () => {
      if (listener !== undefined) signal.removeEventListener('abort', listener);
    },
  };
}
