import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { conversationEventSchemas } from '../../machines/conversation.ts';
import type { z } from 'zod';
import { applicationEventSchemas } from '../../machines/application.ts';
import { stageEventSchemas } from '../../machines/stage.ts';
import { journalFieldSchemas } from '../../src/domain/journal.ts';
import { newUserSchema } from '../../src/accounts/users.ts';
import { formSchema, remarkSchema, remarksSchema } from '../../src/domain/application.ts';
import { defaultCommissionSettings } from '../../src/domain/criteria.ts';
import { cleanFileName, documentNameSchema } from '../../src/domain/documents.ts';
import { municipalityInputSchema } from '../../src/domain/municipality.ts';
import { TEXT_CHARACTERS_PROBLEM, hasForbiddenCharacters, xmlSafeText } from '../../src/domain/text.ts';
import { programmeSchema } from '../../src/workflows/programme/create.ts';
import { rankingXlsx } from '../../src/http/exports/ranking.ts';
import { translator } from '../../src/i18n/index.ts';
import type { RankingRow, RankingView } from '../../src/workflows/commission/reads.ts';

/** The character rule of every text field (issue 17, point 4), and the XLSX export that broke on U+FFFE. */

const forbidden = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0080', '\u009f', '\ufdd0', '\ufdef', '\ufffe', '\uffff', '\u{1fffe}', '\u{2ffff}', '\u{10fffe}', '\u{10ffff}', '\ud800', '\udbff', '\udc00', '\udfff'];

describe('hasForbiddenCharacters', () => {
  it('refuses controls, noncharacters and lone surrogates; a line break and a tab only in a multi-line text', () => {
    for (const char of forbidden) {
      expect(hasForbiddenCharacters(`a${char}b`), JSON.stringify(char)).toBe(true);
      expect(hasForbiddenCharacters(`a${char}b`, true), JSON.stringify(char)).toBe(true);
    }
    for (const char of ['\n', '\r', '\t']) {
      expect(hasForbiddenCharacters(`a${char}b`)).toBe(true);
      expect(hasForbiddenCharacters(`a${char}b`, true)).toBe(false);
    }
    for (const fine of ['Ремонт «Ёлочки» — 2-й этап', '😀 𝔸 ℕ', 'a\u00a0b', '\u202eRTL', 'Ä Ö ß €', '\ufdcf\ufdf0\ufffd', '\u{1fffd}']) expect(hasForbiddenCharacters(fine), fine).toBe(false);
  });

  it('cleans a file name of them, never cutting a surrogate pair', () => {
    expect(cleanFileName('../../прото\u0000кол\ufffe.pdf')).toBe('протокол.pdf');
    const long = cleanFileName(`${'😀'.repeat(200)}.pdf`);
    expect(hasForbiddenCharacters(long)).toBe(false);
    expect(long.endsWith('.pdf')).toBe(true);
    expect(documentNameSchema.safeParse('протокол\ufffe.pdf').success).toBe(false);
  });
});

/** A password is a secret, compared and never shown: whatever a person typed is theirs. */
const secrets = new Set(['password']);

/** The schema inside optional/default/array/union/object wrappers, down to the ones that take a plain text. */
function textLeaves(schema: z.ZodType, path: string, out: { path: string; schema: z.ZodType }[] = []): { path: string; schema: z.ZodType }[] {
  if (schema.safeParse('Обычный текст').success) {
    out.push({ path, schema });
    return out;
  }
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const walk = (child: unknown, suffix: string) => textLeaves(child as z.ZodType, `${path}${suffix}`, out);
  switch (def.type) {
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) if (!secrets.has(key)) walk(child, `.${key}`);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
      walk(def.innerType, '');
      break;
    case 'array':
      walk(def.element, '[]');
      break;
    case 'union':
      (def.options as unknown[]).forEach((option, i) => walk(option, `|${i}`));
      break;
    case 'pipe':
      // A text read into something else (a population typed as digits) is that something, not a text.
      if (!(def.in as z.ZodType).safeParse('Обычный текст').success) walk(def.in, '');
      break;
    default:
      break;
  }
  return out;
}

const schemas: [string, z.ZodType][] = [
  ['form', formSchema],
  ['remarks', remarksSchema],
  ['remark', remarkSchema],
  ['new user', newUserSchema],
  ['municipality', municipalityInputSchema],
  ['programme', programmeSchema],
  ...Object.entries(applicationEventSchemas).map(([type, schema]): [string, z.ZodType] => [`application event ${type}`, schema]),
  ...Object.entries(stageEventSchemas).map(([type, schema]): [string, z.ZodType] => [`stage event ${type}`, schema]),
  ...Object.entries(journalFieldSchemas).map(([kind, schema]): [string, z.ZodType] => [`journal ${kind}`, schema]),
  ...Object.entries(conversationEventSchemas).map(([type, schema]): [string, z.ZodType] => [`conversation event ${type}`, schema]),
];

function issueCodes(error: z.ZodError): string[] {
  const codes: string[] = [];
  const visit = (issues: readonly z.core.$ZodIssue[]) => {
    for (const issue of issues) {
      codes.push(issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : issue.code);
      if (issue.code === 'invalid_union') for (const branch of issue.errors) visit(branch);
    }
  };
  visit(error.issues);
  return codes;
}

describe('every text field of every schema', () => {
  const leaves = schemas.flatMap(([name, schema]) => textLeaves(schema, name));

  it('is found (the walk sees them all)', () => {
    const paths = leaves.map((leaf) => leaf.path);
    for (const expected of ['form.title', 'form.settlement', 'form.problem', 'form.description', 'remarks', 'new user.name', 'municipality.name', 'programme.title', 'programme.region', 'application event reject.reason', 'application event accept.comment', 'application event sign-contract.contractor', 'application event review-document|1.remark', 'remark.text', 'stage event reopen.reason', 'conversation event post-message.text']) {
      expect(paths).toContain(expected);
    }
    expect(leaves.length).toBeGreaterThan(20);
  });

  it('refuses every forbidden character with the catalogue’s problem code', () => {
    const passed: string[] = [];
    for (const leaf of leaves) {
      for (const char of forbidden) {
        const parsed = leaf.schema.safeParse(`Обычный ${char}текст`);
        if (parsed.success || !issueCodes(parsed.error).includes(TEXT_CHARACTERS_PROBLEM)) passed.push(`${leaf.path} took ${JSON.stringify(char)}`);
      }
    }
    expect(passed).toEqual([]);
  });
});

describe('the XLSX export', () => {
  const row = (over: Partial<RankingRow>): RankingRow => ({
    rank: 1,
    applicationId: 7,
    title: 'Водопровод',
    municipality: 'Завьяловский район',
    settlement: 'с. Завьялово',
    firstSubmittedAt: '2027-05-01T06:00:00.000Z',
    criteria: defaultCommissionSettings.criteria.map((c) => ({ key: c.key, pointsCenti: 1050, measure: 5 })),
    totalCenti: 7350,
    scores: [],
    requestedKopecks: 100,
    allocatedKopecks: 100,
    fundLeftKopecks: 0,
    outcome: 'award',
    why: null,
    ...over,
  });
  const view = (rows: RankingRow[], title = 'П'): RankingView => ({
    programme: { id: 1, title, year: 2027, region: 'Р', timeZone: 'Europe/Samara', fundKopecks: 1, capKopecks: 1, minLocalShareBp: 500 },
    settings: defaultCommissionSettings,
    alreadyAwardedKopecks: 0,
    availableKopecks: 1,
    rows,
    allocatedKopecks: 0,
    fundLeftKopecks: 0,
  });

  it('opens even with texts stored before the rule held such characters, showing U+FFFD in their place', async () => {
    const buffer = await rankingXlsx(translator('ru'), 'ru', view([row({ title: 'Водо\ufffeпровод\u0001', municipality: 'Район\ud800', settlement: 'с.\u000bЗавьялово' })], 'Программа\uffff'), null);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
    const cells = (workbook.worksheets[0]!.getRow(2).values as unknown[]).filter((v) => typeof v === 'string');
    expect(cells).toEqual(expect.arrayContaining(['Водо\ufffdпровод\ufffd', 'Район\ufffd', 'с.\ufffdЗавьялово']));
    expect(xmlSafeText('ok\ttab\nline')).toBe('ok\ttab\nline');
  });
});
