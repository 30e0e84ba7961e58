import { fundSources, milestoneKinds, savingsRules } from '../../src/domain/implementation.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applicationEventTypes, applicationStates } from '../../machines/application.ts';
import { formFields, projectTypes } from '../../src/domain/application.ts';
import { criterionKeys } from '../../src/domain/criteria.ts';
import { programmeFormFields, programmeHintFields } from '../../src/http/programme-form.ts';
import { roles } from '../../src/domain/roles.ts';
import { municipalityKinds } from '../../src/domain/municipality.ts';
import { announcementChannels, journalKinds } from '../../src/domain/journal.ts';
import { publicStatuses } from '../../src/read/public.ts';
import { notificationKinds } from '../../src/workflows/notifications/rules.ts';
import { en } from '../../src/i18n/en.ts';
import { languages, translator } from '../../src/i18n/index.ts';
import { ru } from '../../src/i18n/ru.ts';
import { queueSorts, queueTabs } from '../../src/read/review-queue.ts';
import { applicationShortcuts } from '../../src/http/review-view.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const viewsDir = join(root, 'views');

const ruCatalogue: Record<string, string> = ru;
const enCatalogue: Record<string, string> = en;
const ruKeys = Object.keys(ruCatalogue).sort();
const enKeys = Object.keys(enCatalogue).sort();

const cyrillic = /\p{Script=Cyrillic}/u;

/** The `{name}` placeholders of a message, as the translator finds them. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

describe('catalogues', () => {
  it('English has exactly the keys of Russian', () => {
    expect(enKeys.filter((k) => !(k in ruCatalogue)), 'keys only in en').toEqual([]);
    expect(ruKeys.filter((k) => !(k in enCatalogue)), 'keys missing from en').toEqual([]);
  });

  it('no message is empty', () => {
    for (const [lang, catalogue] of [['ru', ruCatalogue], ['en', enCatalogue]] as const) {
      const empty = Object.entries(catalogue).filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k);
      expect(empty, `empty messages in ${lang}`).toEqual([]);
    }
  });

  it('each key has the same placeholders in both languages', () => {
    const mismatched = ruKeys
      .filter((k) => k in enCatalogue)
      .filter((k) => placeholders(ruCatalogue[k]!).join(',') !== placeholders(enCatalogue[k]!).join(','))
      .map((k) => `${k}: ru {${placeholders(ruCatalogue[k]!).join(', ')}} en {${placeholders(enCatalogue[k]!).join(', ')}}`);
    expect(mismatched).toEqual([]);
  });

  it('English messages contain no Russian text', () => {
    const untranslated = Object.entries(enCatalogue).filter(([, v]) => cyrillic.test(v)).map(([k]) => k);
    expect(untranslated).toEqual([]);
  });

  it('the demo logins and password are the same in both languages', () => {
    const logins = (text: string) => [...text.matchAll(/\b[a-z]+\d\b/g)].map((m) => m[0]);
    expect(logins(en['login.demo'])).toEqual(logins(ru['login.demo']));
    expect(logins(en['login.demo']).length).toBeGreaterThan(0);
    expect(en['login.demo']).toMatch(/\bdemo\.?$/);
  });
});

describe('translator', () => {
  afterEach(() => {
    vi.doUnmock('../../src/i18n/en.ts');
    vi.resetModules();
  });

  it('knows both languages', () => {
    expect([...languages].sort()).toEqual(['en', 'ru']);
  });

  it('translates and substitutes params in English', () => {
    const t = translator('en');
    expect(t('nav.queue')).toBe(en['nav.queue']);
    expect(t('app.number', { id: 42 })).toBe(en['app.number'].replace('{id}', '42'));
    expect(t('app.number', { id: 42 })).toContain('42');
    expect(t('app.done', { event: 'E', state: 'S' })).not.toMatch(/\{\w+\}/);
    expect(t('app.done', { event: 'E' })).toContain('{state}');
  });

  it('substitutes params in Russian', () => {
    expect(translator('ru')('app.number', { id: 7 })).toBe('Заявка № 7');
  });

  it('falls back to the key when neither language has it', () => {
    expect(translator('en')('no.such.key')).toBe('no.such.key');
    expect(translator('ru')('no.such.key', { x: 1 })).toBe('no.such.key');
  });

  it('falls back to Russian for a key missing in English', async () => {
    vi.resetModules();
    vi.doMock('../../src/i18n/en.ts', () => ({ en: { 'nav.queue': 'Review queue' } }));
    const { translator: partialTranslator } = await import('../../src/i18n/index.ts');
    const t = partialTranslator('en');
    expect(t('nav.queue')).toBe('Review queue');
    expect(t('nav.new')).toBe(ru['nav.new']);
    expect(t('app.number', { id: 3 })).toBe('Заявка № 3');
    expect(t('no.such.key')).toBe('no.such.key');
  });
});

/** Every `.eta` template under views/, recursively. */
function templates(): { file: string; text: string }[] {
  const files = readdirSync(viewsDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.eta'));
  return files.sort().map((f) => ({ file: relative(root, join(viewsDir, f)), text: readFileSync(join(viewsDir, f), 'utf8') }));
}

/** The `it.t(...)` calls of a template: where each starts and ends, and its argument text. */
function translateCalls(text: string): { start: number; end: number; args: string }[] {
  const calls: { start: number; end: number; args: string }[] = [];
  for (const match of text.matchAll(/\bit\.t\(/g)) {
    const start = match.index;
    let depth = 0;
    let quote: string | null = null;
    let i = start + match[0].length - 1;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = null;
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
    }
    calls.push({ start, end: i + 1, args: text.slice(start + match[0].length, i) });
  }
  return calls;
}

/** The message argument of a call: everything before its first top-level comma. */
function firstArgument(args: string): string {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) return args.slice(0, i);
  }
  return args;
}

/** The ru keys a dynamic prefix must cover: one per value the code can put after it. */
const dynamicPrefixes: Record<string, readonly string[]> = {
  'state.': applicationStates,
  'event.': [...applicationEventTypes, 'create'],
  'role.': roles,
  'projectType.': projectTypes,
  'field.': formFields,
  'commission.criterion.': criterionKeys,
  'commission.criterionShort.': criterionKeys,
  'commission.outcome.': ['award', 'partial', 'skip'],
  'programmes.field.': programmeFormFields,
  'programmes.hint.': programmeHintFields,
  'admin.municipalityKind.': municipalityKinds,
  'queue.tab.': queueTabs,
  'queue.tabHint.': queueTabs,
  'queue.empty.': queueTabs,
  'queue.col.': Object.keys(queueSorts),
  'review.shortcut.': applicationShortcuts.map((shortcut) => shortcut.action),
  'journal.kind.': journalKinds,
  'notify.kind.': notificationKinds,
  'mail.state.': ['none', 'pending', 'sending', 'sent', 'failed'],
  'deadlines.field.': ['reviewDays', 'answerDays', 'remindDays'],
  'deadlines.hint.': ['reviewDays', 'answerDays', 'remindDays'],
  'deadline.': ['review', 'answer'],
  'programme.savingsRule.': savingsRules,
  // The public portal (issue 15).
  'public.col.': fundSources,
  'public.channel.': announcementChannels,
  'public.outcome.': ['award', 'partial', 'skip'],
  'public.publicStatus.': publicStatuses,
  'source.': fundSources,
  'milestone.': milestoneKinds,
  'verdict.': ['ok', 'issues'],
};

describe('templates', () => {
  const views = templates();

  it('finds the templates', () => {
    expect(views.length).toBeGreaterThan(0);
  });

  it("every literal key in it.t('…') exists in the Russian catalogue", () => {
    const literal = /\bit\.t\(\s*(['"])([\w.-]+)\1\s*[,)]/g;
    const missing: string[] = [];
    let found = 0;
    for (const { file, text } of views) {
      for (const m of text.matchAll(literal)) {
        found++;
        if (!(m[2]! in ruCatalogue)) missing.push(`${file}:${text.slice(0, m.index).split('\n').length}: ${m[2]}`);
      }
    }
    expect(found).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  it('keys chosen by an expression (e.g. a ternary) exist, and dynamic prefixes are known', () => {
    const missing: string[] = [];
    const unknownPrefixes: string[] = [];
    for (const { file, text } of views) {
      for (const call of translateCalls(text)) {
        const arg = firstArgument(call.args).trim();
        if (/^(['"])[\w.-]+\1$/.test(arg)) continue; // a plain literal: checked above
        const where = `${file}:${text.slice(0, call.start).split('\n').length}`;
        for (const m of arg.matchAll(/(['"])([\w.-]*)\1(\s*\+)?/g)) {
          const value = m[2]!;
          if (m[3]) {
            if (!Object.keys(dynamicPrefixes).some((p) => value.startsWith(p))) unknownPrefixes.push(`${where}: '${value}' + …`);
          } else if (/^[\w-]+(\.[\w-]+)+$/.test(value) && !(value in ruCatalogue)) {
            missing.push(`${where}: ${value}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
    expect(unknownPrefixes, 'add the new dynamic prefix to dynamicPrefixes in this test').toEqual([]);
  });

  it.each(Object.entries(dynamicPrefixes))("Russian has '%s' keys for every value", (prefix, values) => {
    expect(values.length).toBeGreaterThan(0);
    expect(values.map((v) => prefix + v).filter((k) => !(k in ruCatalogue))).toEqual([]);
  });

  it('no template hard-codes Russian text outside it.t(…)', () => {
    const found: string[] = [];
    for (const { file, text } of views) {
      let masked = text;
      for (const call of translateCalls(text)) {
        masked = masked.slice(0, call.start) + masked.slice(call.start, call.end).replace(/[^\n]/g, ' ') + masked.slice(call.end);
      }
      masked.split('\n').forEach((line, i) => {
        if (cyrillic.test(line.replaceAll('₽', ''))) found.push(`${file}:${i + 1}: ${text.split('\n')[i]!.trim()}`);
      });
    }
    expect(found, `templates with hard-coded Russian:\n${found.join('\n')}`).toEqual([]);
  });
});
