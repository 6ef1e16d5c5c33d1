// Worker entry for bench/emulator-thread.ts: worker threads do not inherit tsx's loader, so
// register it here before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./emulator.worker.ts');
