// Worker entry for bench/pulsar-http.ts: worker threads do not inherit tsx's loader, so register
// it here before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./pulsar-http-emulator.worker.ts');
