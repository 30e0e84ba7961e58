import { describe, expect, it } from 'vitest';
import { demoPhotoPng, minimalPdf, transliterate } from '../../src/demo/documents.ts';
import { ANY_PROJECT_TYPE, documentRequirementSchema, effectiveRules, type DocumentRequirement } from '../../src/domain/document-requirements.ts';
import {
  cleanFileName,
  defaultDocumentRules,
  documentRemarks,
  extensionOf,
  fitsRule,
  missingDocuments,
  sniffFileType,
  unacceptedDocuments,
  uploadProblems,
  type DocumentRule,
  type DocumentSet,
} from '../../src/domain/documents.ts';
import { samples } from '../int/document-samples.ts';

const sniff = (bytes: Buffer) => sniffFileType(bytes.subarray(0, 65536), bytes.subarray(Math.max(0, bytes.length - 65536)));
const pdfRule: DocumentRule = { kind: 'meeting-minutes', required: true, fileTypes: ['pdf'], maxBytes: 10_000 };
const sheetRule: DocumentRule = { kind: 'attendance-sheet', required: true, fileTypes: ['pdf', 'jpeg', 'png'], maxBytes: 10_000 };

describe('the type of a file, told from its bytes (issue 7)', () => {
  it('knows PDF, PNG, JPEG and the ZIP-based office files', () => {
    expect(sniff(samples.pdf())).toBe('pdf');
    expect(sniff(samples.png())).toBe('png');
    expect(sniff(samples.jpeg())).toBe('jpeg');
    expect(sniff(samples.xlsx())).toBe('xlsx');
    expect(sniff(Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('word/document.xml')]))).toBe('docx');
  });

  it('knows nothing else: HTML, SVG, a program, a bare ZIP, a PDF cut short, an empty file', () => {
    for (const bytes of [samples.html(), samples.svg(), samples.exe(), Buffer.from('PK\x03\x04plain.txt', 'latin1'), samples.pdf().subarray(0, 100), Buffer.alloc(0)]) {
      expect(sniff(bytes)).toBeNull();
    }
  });

  it('the demo’s generated documents are what they say', () => {
    expect(sniff(minimalPdf('Протокол', ['строка (со скобками) и \\ обратной чертой']))).toBe('pdf');
    expect(sniff(demoPhotoPng(3))).toBe('png');
    expect(demoPhotoPng(3).equals(demoPhotoPng(3))).toBe(true);
    expect(demoPhotoPng(3).equals(demoPhotoPng(4))).toBe(false);
    expect(transliterate('Протокол № 5 «Жители»')).toBe('Protokol No. 5 "Zhiteli"');
  });
});

describe('an upload judged against its rule', () => {
  const ok: Parameters<typeof uploadProblems>[1] = { name: 'протокол.pdf', size: 500, sniffed: 'pdf', tooLarge: false };
  it('takes a file of an accepted type, within the limit, whose name says what it is', () => {
    expect(uploadProblems(pdfRule, ok)).toEqual([]);
    expect(uploadProblems(sheetRule, { ...ok, name: 'лист.JPEG', sniffed: 'jpeg' })).toEqual([]);
  });

  it('refuses, one reason at a time: unknown kind, too large, empty, bad name, unknown type, type not accepted, a lying name', () => {
    const code = (rule: DocumentRule | undefined, file: Partial<typeof ok>) => uploadProblems(rule, { ...ok, ...file }).map((p) => p.code);
    expect(code(undefined, {})).toEqual(['document-kind-unknown']);
    expect(code(pdfRule, { size: 10_001 })).toEqual(['document-too-large']);
    expect(code(pdfRule, { tooLarge: true })).toEqual(['document-too-large']);
    expect(code(pdfRule, { size: 0 })).toEqual(['document-empty']);
    expect(code(pdfRule, { name: '' })).toEqual(['document-name-invalid']);
    expect(code(pdfRule, { sniffed: null })).toEqual(['document-type-unknown']);
    expect(code(pdfRule, { sniffed: 'png', name: 'x.png' })).toEqual(['document-type-not-accepted']);
    expect(code(sheetRule, { sniffed: 'png', name: 'x.pdf' })).toEqual(['document-type-mismatch']);
    expect(code(sheetRule, { sniffed: 'pdf', name: 'без расширения' })).toEqual(['document-type-mismatch']);
  });

  it('cleans the names browsers and scripts send', () => {
    expect(cleanFileName('C:\\fakepath\\Протокол.pdf')).toBe('Протокол.pdf');
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName(' a\u0000b\u001f.pdf ')).toBe('ab.pdf');
    const long = cleanFileName(`${'я'.repeat(400)}.pdf`);
    expect(long.length).toBeLessThanOrEqual(255);
    expect(extensionOf(long)).toBe('pdf');
    expect(extensionOf('.pdf')).toBe('');
    expect(extensionOf('a.')).toBe('');
  });

  it('the machine’s own check: a media type the rule accepts, a size within it', () => {
    expect(fitsRule(pdfRule, { mediaType: 'application/pdf', size: 10_000 })).toBe(true);
    expect(fitsRule(pdfRule, { mediaType: 'application/pdf', size: 10_001 })).toBe(false);
    expect(fitsRule(pdfRule, { mediaType: 'image/png', size: 1 })).toBe(false);
    expect(fitsRule(undefined, { mediaType: 'application/pdf', size: 1 })).toBe(false);
  });
});

describe('what the documents say about submit, accept and the return', () => {
  const file = { name: 'a.pdf', size: 1, mediaType: 'application/pdf' as const, sha256: 'a'.repeat(64), attachedAt: '2027-01-01T00:00:00.000Z' };
  const documents: DocumentSet = {
    'meeting-minutes': { file, verdict: 'accepted', remark: null, reviewedAt: null },
    'cost-estimate': { file, verdict: 'remark', remark: 'Не подписана.', reviewedAt: null },
    'budget-extract': { file: null, verdict: 'remark', remark: 'Приложите выписку.', reviewedAt: null },
  };
  it('names the missing and the unaccepted by kind', () => {
    expect(missingDocuments(documents, ['meeting-minutes', 'budget-extract', 'object-photos']).map((p) => p.field)).toEqual(['document.budget-extract', 'document.object-photos']);
    expect(unacceptedDocuments(documents, ['meeting-minutes', 'cost-estimate', 'budget-extract']).map((p) => `${p.field}:${p.code}`)).toEqual([
      'document.cost-estimate:document-not-accepted',
      'document.budget-extract:document-missing',
    ]);
    expect(missingDocuments(undefined, [])).toEqual([]);
  });

  it('turns the document remarks into remarks on document fields', () => {
    expect(documentRemarks(documents)).toEqual([
      { field: 'document.cost-estimate', text: 'Не подписана.' },
      { field: 'document.budget-extract', text: 'Приложите выписку.' },
    ]);
  });
});

describe('requirements per programme and project type', () => {
  const rows: DocumentRequirement[] = [
    ...defaultDocumentRules.map((rule) => ({ ...rule, projectType: ANY_PROJECT_TYPE as DocumentRequirement['projectType'] })),
    { projectType: 'roads', kind: 'object-photos', required: false, fileTypes: ['jpeg'], maxBytes: 1024 },
    { projectType: 'culture', kind: 'design-documentation', required: true, fileTypes: ['pdf'], maxBytes: 1024 },
  ];
  it('lays a project type’s rows over the defaults', () => {
    expect(effectiveRules(rows, 'roads').find((r) => r.kind === 'object-photos')).toEqual({ kind: 'object-photos', required: false, fileTypes: ['jpeg'], maxBytes: 1024 });
    expect(effectiveRules(rows, 'culture').map((r) => r.kind)).toContain('design-documentation');
    expect(effectiveRules(rows, 'sport').map((r) => r.kind)).toEqual(defaultDocumentRules.map((r) => r.kind));
    expect(effectiveRules(rows, undefined)).toEqual(defaultDocumentRules.map((r) => ({ ...r, fileTypes: [...r.fileTypes] })));
  });

  it('validates what the admin sets', () => {
    expect(documentRequirementSchema.parse({ projectType: '*', kind: 'other', required: false, fileTypes: ['png', 'pdf', 'pdf'], maxBytes: 2048 }).fileTypes).toEqual(['pdf', 'png']);
    expect(documentRequirementSchema.safeParse({ projectType: 'space', kind: 'other', required: false, fileTypes: ['pdf'], maxBytes: 2048 }).success).toBe(false);
    expect(documentRequirementSchema.safeParse({ projectType: '*', kind: 'other', required: false, fileTypes: [], maxBytes: 2048 }).success).toBe(false);
    expect(documentRequirementSchema.safeParse({ projectType: '*', kind: 'other', required: false, fileTypes: ['pdf'], maxBytes: 100 * 1024 * 1024 }).success).toBe(false);
  });
});
