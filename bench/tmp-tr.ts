import { join } from 'node:path';
import { transitionFigures } from './throughput.ts';
await transitionFigures('/tmp/trdemo/demo.sqlite', '/tmp/trdemo', 5);
