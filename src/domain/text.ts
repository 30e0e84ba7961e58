import { z } from 'zod';

/**
 * What a person may type into a text field (issue 17): anything printable. Refused: control
 * characters (C0, DEL, C1; in a multi-line text a line feed, a carriage return and a tab are
 * allowed), Unicode noncharacters (U+FDD0–U+FDEF and the last two code points of every plane,
 * U+FFFE, U+FFFF, U+1FFFE …) and lone surrogates (half of a UTF-16 pair). None of them is text a
 * person meant, and each breaks something downstream: XML (the XLSX export), terminals, logs.
 * One rule for every text field of every schema: the form, event payloads, admin forms.
 */
export const TEXT_CHARACTERS_PROBLEM = 'text-characters';

const lineControls = /[\u0000-\u001f\u007f-\u009f]/;
const blockControls = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const noncharacters = /\p{Noncharacter_Code_Point}/u;
// Without the u flag a regular expression sees UTF-16 code units, so that a lone half shows.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a text holds a character no text field takes. */
export function hasForbiddenCharacters(text: string, multiline = false): boolean {
  return (multiline ? blockControls : lineControls).test(text) || noncharacters.test(text) || loneSurrogate.test(text);
}

/** The refinement every text schema carries; its problem code names the catalogue's message. */
export function refineText<T extends z.ZodType<string>>(schema: T, multiline = false) {
  return schema.refine((text) => !hasForbiddenCharacters(text, multiline), {
    message: 'control characters, noncharacters and lone surrogates are not text',
    params: { code: TEXT_CHARACTERS_PROBLEM },
  });
}

export interface TextOptions {
  /** Fewest characters after trimming; 1 by default (a required text), 0 for an optional one that may be empty. */
  min?: number;
  max: number;
  /** Line breaks and tabs allowed (a textarea). */
  multiline?: boolean;
}

/** A trimmed text of a field, with the character rule. */
export function text(options: TextOptions) {
  return refineText(z.string().trim().min(options.min ?? 1).max(options.max), options.multiline ?? false);
}

/** The text with every character `hasForbiddenCharacters` refuses on one line taken out (a file name as a browser sent it). */
export function withoutForbiddenCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]|\p{Noncharacter_Code_Point}/gu, '').replace(new RegExp(loneSurrogate.source, 'g'), '');
}

/**
 * XML 1.0 cannot hold what `hasForbiddenCharacters` refuses (bar C1 and some noncharacters, which
 * it holds but which no reader wants): anything written to XML before the rule existed is shown
 * with U+FFFD in their place, so that an old record never breaks an export.
 */
export function xmlSafeText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|\p{Noncharacter_Code_Point}/gu, '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
