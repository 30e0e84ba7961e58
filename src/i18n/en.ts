import type { ru } from './ru.ts';
import { core } from './en/core.ts';
import { stages } from './en/stages.ts';

/** The English catalogue: every key of the Russian one (the type checks it), same placeholders. */
export const en: Record<keyof typeof ru, string> = { ...core, ...stages };
