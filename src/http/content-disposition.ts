/**
 * A Content-Disposition header for a download (RFC 6266): the name as `filename*` in UTF-8
 * (RFC 8187), which every current browser reads, and an ASCII `filename` for the ones that do not,
 * with everything outside printable ASCII and the quoting characters replaced.
 */
export function contentDisposition(kind: 'attachment' | 'inline', fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_') || 'download';
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(fileName)}`;
}

/** RFC 8187 `value-chars`: attr-char as it is, every other byte of the UTF-8 as %XX. */
export function encodeRfc8187(text: string): string {
  // attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(char) && byte < 0x80 ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
