import { z } from 'zod';
import { refineText, text, withoutForbiddenCharacters } from './text.ts';

/**
 * The competition documentation (issue 7): the kinds of documents an application carries, the file
 * types they may come as, and how a file's type is told from its first and last bytes. Pure: the
 * upload route streams the bytes, this module only judges what it saw.
 */

/** The kinds of document the methodology names; a programme requires some of them per project type. */
export const documentKinds = [
  'meeting-minutes',
  'attendance-sheet',
  'cost-estimate',
  'budget-extract',
  'sponsor-letters',
  'object-photos',
  'design-documentation',
  'media-publications',
  'other',
] as const;
export type DocumentKind = (typeof documentKinds)[number];

/** A remark on a document is a remark on the field `document.<kind>`, beside the form's own fields. */
export const documentFields = documentKinds.map((kind) => `document.${kind}` as const);
export type DocumentField = (typeof documentFields)[number];
export const documentField = (kind: DocumentKind): DocumentField => `document.${kind}`;

/** The file types the system takes: what a browser is told and which names they may carry. */
export const fileTypes = {
  pdf: { mediaType: 'application/pdf', extensions: ['pdf'], preview: true },
  jpeg: { mediaType: 'image/jpeg', extensions: ['jpg', 'jpeg'], preview: true },
  png: { mediaType: 'image/png', extensions: ['png'], preview: true },
  xlsx: { mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', extensions: ['xlsx'], preview: false },
  docx: { mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extensions: ['docx'], preview: false },
} as const;
export type FileTypeKey = keyof typeof fileTypes;
export const fileTypeKeys = Object.keys(fileTypes) as FileTypeKey[];
export const mediaTypes = fileTypeKeys.map((key) => fileTypes[key].mediaType);
export type MediaType = (typeof fileTypes)[FileTypeKey]['mediaType'];

export function fileTypeOfMedia(mediaType: string): FileTypeKey | undefined {
  return fileTypeKeys.find((key) => fileTypes[key].mediaType === mediaType);
}

/** No single document is larger than this, whatever a programme sets. */
export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;
export const MIB = 1024 * 1024;

/** What a programme asks of one kind of document (for all project types, or for one). */
export interface DocumentRule {
  kind: DocumentKind;
  required: boolean;
  fileTypes: FileTypeKey[];
  maxBytes: number;
}

/** The set every new programme starts with; the admin changes it per programme and project type. */
export const defaultDocumentRules: readonly DocumentRule[] = [
  { kind: 'meeting-minutes', required: true, fileTypes: ['pdf'], maxBytes: 10 * MIB },
  { kind: 'attendance-sheet', required: true, fileTypes: ['pdf', 'jpeg', 'png'], maxBytes: 10 * MIB },
  { kind: 'cost-estimate', required: true, fileTypes: ['pdf', 'xlsx'], maxBytes: 10 * MIB },
  { kind: 'budget-extract', required: true, fileTypes: ['pdf'], maxBytes: 5 * MIB },
  { kind: 'sponsor-letters', required: false, fileTypes: ['pdf'], maxBytes: 10 * MIB },
  { kind: 'object-photos', required: true, fileTypes: ['jpeg', 'png'], maxBytes: 15 * MIB },
];

/** A file name as a person gave it: no path, no control characters, a sensible length. */
export const documentNameSchema = refineText(z.string().min(1).max(255)).refine((name) => !/[/\\]/.test(name) && name.trim() === name, 'a plain file name');

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');

/** The `attach-document` event: which file was stored, by its content hash. Replacing is another one. */
export const attachDocumentSchema = z.strictObject({
  kind: z.enum(documentKinds),
  name: documentNameSchema,
  size: z.number().int().min(1).max(MAX_DOCUMENT_BYTES),
  mediaType: z.enum(mediaTypes as [MediaType, ...MediaType[]]),
  sha256: sha256Schema,
});
export type AttachDocumentPayload = z.infer<typeof attachDocumentSchema>;

/** The reviewer's verdict on one document: accepted, or a remark the applicant must act on. */
export const reviewDocumentSchema = z.discriminatedUnion('verdict', [
  z.strictObject({ kind: z.enum(documentKinds), verdict: z.literal('accepted') }),
  z.strictObject({ kind: z.enum(documentKinds), verdict: z.literal('remark'), remark: text({ max: 2000, multiline: true }) }),
]);
export type ReviewDocumentPayload = z.infer<typeof reviewDocumentSchema>;

export type DocumentVerdict = 'pending' | 'accepted' | 'remark';

/** One stored file, as its `attach-document` event recorded it. */
export interface DocumentFile {
  name: string;
  size: number;
  mediaType: MediaType;
  sha256: string;
  attachedAt: string;
}

/**
 * A document as the application holds it: the latest file of its kind (none yet, when the reviewer
 * remarked on a missing one) and the reviewer's verdict, reset to pending by every new file.
 */
export interface DocumentEntry {
  file: DocumentFile | null;
  verdict: DocumentVerdict;
  remark: string | null;
  reviewedAt: string | null;
}

/** Documents by kind. */
export type DocumentSet = Partial<Record<DocumentKind, DocumentEntry>>;

export interface DocumentProblem {
  field: DocumentField;
  code: 'document-missing' | 'document-not-accepted';
  params: { kind: DocumentKind };
}

/** The required documents that are not there: `submit` waits for them. */
export function missingDocuments(documents: DocumentSet | undefined, required: readonly string[]): DocumentProblem[] {
  return required
    .filter((kind): kind is DocumentKind => (documentKinds as readonly string[]).includes(kind))
    .filter((kind) => !documents?.[kind]?.file)
    .map((kind) => ({ field: documentField(kind), code: 'document-missing' as const, params: { kind } }));
}

/** The required documents not (yet) accepted by the reviewer: `accept` waits for them. */
export function unacceptedDocuments(documents: DocumentSet | undefined, required: readonly string[]): DocumentProblem[] {
  return required
    .filter((kind): kind is DocumentKind => (documentKinds as readonly string[]).includes(kind))
    .filter((kind) => documents?.[kind]?.verdict !== 'accepted' || !documents[kind]?.file)
    .map((kind) =>
      documents?.[kind]?.file
        ? { field: documentField(kind), code: 'document-not-accepted' as const, params: { kind } }
        : { field: documentField(kind), code: 'document-missing' as const, params: { kind } },
    );
}

/** Whether an attached file fits its kind's rule: a type the kind accepts and a size within its limit. */
export function fitsRule(rule: Pick<DocumentRule, 'fileTypes' | 'maxBytes'> | undefined, file: { mediaType: string; size: number }): boolean {
  if (!rule) return false;
  const type = fileTypeOfMedia(file.mediaType);
  return type !== undefined && rule.fileTypes.includes(type) && file.size <= rule.maxBytes;
}

const startsWith = (bytes: Uint8Array, signature: readonly number[]) =>
  bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/**
 * The type a file really is, from its first bytes (and, for PDFs and office files, its last):
 * `%PDF-` … `%%EOF`, the PNG and JPEG signatures, and a ZIP whose entries name an Excel workbook or
 * a Word document (entry names stand in plain text in the local headers and the central directory).
 * Anything else — HTML, SVG, an executable, a bare ZIP — is unknown and refused.
 */
export function sniffFileType(head: Uint8Array, tail: Uint8Array): FileTypeKey | null {
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return latin1(tail).includes('%%EOF') ? 'pdf' : null;
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    const names = latin1(head) + latin1(tail);
    if (names.includes('xl/workbook.xml')) return 'xlsx';
    if (names.includes('word/document.xml')) return 'docx';
  }
  return null;
}

/** The extension of a file name, lower case, without the dot; '' when it has none. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 || dot === name.length - 1 ? '' : name.slice(dot + 1).toLowerCase();
}

/** A file name from a browser or a script made safe to store and to show: its last path part, cleaned. */
export function cleanFileName(raw: string): string {
  const last = raw.split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = withoutForbiddenCharacters(last).trim();
  if (cleaned.length <= 255) return cleaned;
  const extension = extensionOf(cleaned);
  // Cut between code points, never inside a surrogate pair.
  return withoutForbiddenCharacters(extension ? `${cleaned.slice(0, 250 - extension.length)}….${extension}` : cleaned.slice(0, 255));
}

export interface UploadProblem {
  field: 'file' | 'kind';
  code:
    | 'document-empty'
    | 'document-too-large'
    | 'document-type-unknown'
    | 'document-type-not-accepted'
    | 'document-type-mismatch'
    | 'document-name-invalid'
    | 'document-kind-unknown';
  params?: Record<string, string | number>;
}

/**
 * Judges a received file against its kind's rule. The size was counted while streaming, the type
 * sniffed from the bytes; a name whose extension says another type than the content is a lie.
 */
export function uploadProblems(
  rule: DocumentRule | undefined,
  file: { name: string; size: number; sniffed: FileTypeKey | null; tooLarge: boolean },
): UploadProblem[] {
  if (!rule) return [{ field: 'kind', code: 'document-kind-unknown' }];
  const accepted = rule.fileTypes.map((key) => key.toUpperCase()).join(', ');
  if (file.tooLarge || file.size > rule.maxBytes) return [{ field: 'file', code: 'document-too-large', params: { max: rule.maxBytes } }];
  if (file.size === 0) return [{ field: 'file', code: 'document-empty' }];
  if (!documentNameSchema.safeParse(file.name).success) return [{ field: 'file', code: 'document-name-invalid' }];
  if (file.sniffed === null) return [{ field: 'file', code: 'document-type-unknown', params: { types: accepted } }];
  if (!rule.fileTypes.includes(file.sniffed)) return [{ field: 'file', code: 'document-type-not-accepted', params: { types: accepted } }];
  if (!(fileTypes[file.sniffed].extensions as readonly string[]).includes(extensionOf(file.name))) {
    return [{ field: 'file', code: 'document-type-mismatch', params: { type: file.sniffed.toUpperCase() } }];
  }
  return [];
}

/** The reviewer's remarks on documents, as remarks on the fields `document.<kind>`: `return-for-revision` carries them. */
export function documentRemarks(documents: DocumentSet | undefined): { field: DocumentField; text: string }[] {
  return documentKinds
    .filter((kind) => documents?.[kind]?.verdict === 'remark' && documents[kind]?.remark)
    .map((kind) => ({ field: documentField(kind), text: documents![kind]!.remark! }));
}
