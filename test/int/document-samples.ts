import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { demoPhotoPng, minimalPdf } from '../../src/demo/documents.ts';

/** Small files of every kind the tests need (issue 7): real ones, and ones that lie. */
export const samples = {
  pdf: (text = 'Протокол итогового собрания') => minimalPdf(text, ['Присутствовали: 120 чел.']),
  png: (seed = 1) => demoPhotoPng(seed),
  jpeg: () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]),
  xlsx: () => Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(26), Buffer.from('[Content_Types].xml'), Buffer.alloc(40), Buffer.from('PK\x03\x04xl/workbook.xml'), Buffer.alloc(40)]),
  html: () => Buffer.from('<!doctype html><script>alert(document.cookie)</script>'),
  svg: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
  exe: () => Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 1)]),
};

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A stream of the bytes in small chunks, as a network would deliver them. */
export function streamOf(bytes: Buffer, chunk = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  return Readable.from(parts);
}

/** Every file under a folder (the document store, its temporary files included). */
export function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  } catch {
    return [];
  }
}

/** A multipart/form-data body: the fields first, then the file, as a browser sends a form. */
export function multipart(fields: Record<string, string>, file?: { name: string; bytes: Buffer; type?: string; field?: string }): { payload: Buffer; contentType: string } {
  const boundary = `----isu-ib-test-${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
