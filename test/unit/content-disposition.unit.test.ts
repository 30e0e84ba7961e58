import { describe, expect, it } from 'vitest';
import { contentDisposition, encodeRfc8187 } from '../../src/http/content-disposition.ts';

/** Download names (issue 17): RFC 8187 UTF-8 with a plain ASCII fallback (RFC 6266). */
describe('contentDisposition', () => {
  it('gives every name in UTF-8 as filename* and a quoted ASCII fallback', () => {
    expect(contentDisposition('attachment', 'ranking-2-protocol-2027-07-01.xlsx')).toBe(`attachment; filename="ranking-2-protocol-2027-07-01.xlsx"; filename*=UTF-8''ranking-2-protocol-2027-07-01.xlsx`);
    expect(contentDisposition('inline', 'Протокол собрания.pdf')).toBe(`inline; filename="________ ________.pdf"; filename*=UTF-8''%D0%9F%D1%80%D0%BE%D1%82%D0%BE%D0%BA%D0%BE%D0%BB%20%D1%81%D0%BE%D0%B1%D1%80%D0%B0%D0%BD%D0%B8%D1%8F.pdf`);
  });

  it('escapes what is not an RFC 8187 attr-char, so that the header cannot be broken out of', () => {
    for (const name of [`it's (final) *copy*.pdf`, 'a"b\\c.pdf', '50% «смета».xlsx', 'фото 😀.png', 'x;filename=evil.exe', 'line\r\nSet-Cookie: a=b']) {
      const header = contentDisposition('attachment', name);
      const [, ascii, encoded] = /^attachment; filename="([^"]*)"; filename\*=UTF-8''(.*)$/.exec(header)!;
      expect(encoded, name).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
      expect(decodeURIComponent(encoded!), name).toBe(name);
      expect(ascii, name).toMatch(/^[\x20-\x7e]+$/);
      expect(ascii, name).not.toMatch(/["\\%]/);
    }
    expect(encodeRfc8187("'()*")).toBe('%27%28%29%2A');
  });
});
