import { ru } from './ru.ts';
import { en } from './en.ts';

export const languages = ['ru', 'en'] as const;
export type Lang = (typeof languages)[number];
export type MessageKey = keyof typeof ru;
export type Translate = (key: string, params?: Record<string, string | number>) => string;

const catalogues: Record<Lang, Record<string, string>> = { ru, en };

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** A translator for one language; a key missing there falls back to Russian, then to the key itself. */
export function translator(lang: Lang): Translate {
  const catalogue = catalogues[lang];
  return (key, params) => {
    const template = catalogue[key] ?? ru[key as MessageKey] ?? key;
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (whole: string, name: string) => (name in params ? String(params[name]) : whole));
  };
}
