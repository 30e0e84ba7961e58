// The verify worker's entry (issue 17): a worker thread does not inherit the parent's loader hooks,
// under `npm start` (tsx) nor under vitest, so it registers tsx itself before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./verify-worker.ts');
