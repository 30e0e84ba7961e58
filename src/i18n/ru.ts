import { core } from './ru/core.ts';
import { stages } from './ru/stages.ts';

/**
 * The Russian catalogue, the product's default language. Each area keeps its own file under
 * ru/ and en/, so that the people working on different areas do not edit the same file.
 */
export const ru = { ...core, ...stages } as const;
