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

const pluralRules: Record<Lang, Intl.PluralRules> = { ru: new Intl.PluralRules('ru'), en: new Intl.PluralRules('en') };

/**
 * A translator for one language; a key missing there falls back to Russian, then to the key itself.
 * A numeric `count` picks the plural form `key#one`, `key#few`, `key#many` or `key#other` where
 * the catalogue has one («21 заявка», «22 заявки», «25 заявок»).
 */
const translators = new Map<Lang, Translate>();

/** The translating function of a language: one per language, so that what is computed from it can be kept (a statechart's SVG). */
export function translator(lang: Lang): Translate {
  let made = translators.get(lang);
  if (!made) {
    made = makeTranslator(lang);
    translators.set(lang, made);
  }
  return made;
}

function makeTranslator(lang: Lang): Translate {
  const catalogue = catalogues[lang];
  const lookup = (key: string) => catalogue[key] ?? ru[key as MessageKey];
  return (key, params) => {
    // The plural forms of this language only: Russian's `few` must never answer an English page.
    const plural = typeof params?.count === 'number' ? catalogue[`${key}#${pluralRules[lang].select(params.count)}`] : undefined;
    const template = plural ?? lookup(key) ?? key;
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (whole: string, name: string) => (name in params ? String(params[name]) : whole));
  };
}
