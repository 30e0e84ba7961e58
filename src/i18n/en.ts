import type { ru } from './ru.ts';

export const en: Partial<Record<keyof typeof ru, string>> = {};
