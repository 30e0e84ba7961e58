import { createHash, randomUUID } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, fsyncSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../../db/client.ts';

/** How much of a file's beginning and end the type sniffing looks at. */
const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 64 * 1024;

const SHA256 = /^[0-9a-f]{64}$/;

/** A file as it arrived: counted, hashed and sampled while it streamed to a temporary file. */
export interface ReceivedFile {
  /** The temporary file; null once refused for its size (nothing of it is kept). */
  tmpPath: string | null;
  size: number;
  sha256: string;
  head: Buffer;
  tail: Buffer;
  /** More bytes came than the limit allows: the rest was read and thrown away. */
  tooLarge: boolean;
}

/**
 * The documents on disk, content-addressed: `<root>/ab/abcdef…` by SHA-256, so that the hash in the
 * `attach-document` event names exactly one file, and an identical file is stored once. Uploads
 * land in `<root>/tmp/` first (the same file system, so the final move is atomic).
 */
export class DocumentStore {
  /** `fsync` flushes one open file or folder to the disk; a test may watch when it is called. */
  constructor(
    readonly root: string,
    private readonly fsync: (fd: number) => void = fsyncSync,
  ) {}

  /** Flushes a file's bytes, or a folder's entries, to the disk. */
  private flush(path: string): void {
    const fd = openSync(path, 'r');
    try {
      this.fsync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private get tmpDir(): string {
    return join(this.root, 'tmp');
  }

  /** Where the file of this hash lives; a string that is not a hash names nothing. */
  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error('not a SHA-256');
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    return SHA256.test(sha256) && existsSync(this.pathOf(sha256));
  }

  size(sha256: string): number {
    return statSync(this.pathOf(sha256)).size;
  }

  /**
   * Streams a file to a temporary file, hashing and counting as it goes, never holding it whole in
   * memory. Past `maxBytes` it stops writing, drains the rest and deletes what it wrote.
   */
  async receive(source: Readable, maxBytes: number): Promise<ReceivedFile> {
    mkdirSync(this.tmpDir, { recursive: true });
    const tmpPath = join(this.tmpDir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    let tooLarge = false;
    const headChunks: Buffer[] = [];
    let headLength = 0;
    let tail = Buffer.alloc(0);
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (tooLarge || size > maxBytes) {
          tooLarge = true;
          return done();
        }
        hash.update(chunk);
        if (headLength < HEAD_BYTES) {
          headChunks.push(chunk.subarray(0, HEAD_BYTES - headLength));
          headLength += Math.min(chunk.length, HEAD_BYTES - headLength);
        }
        tail = Buffer.concat([tail, chunk]);
        if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
        done(null, chunk);
      },
    });
    const sink = createWriteStream(tmpPath, { flags: 'wx', mode: 0o600 });
    try {
      await pipeline(source, meter, sink);
    } catch (error) {
      // The file may still be opening when a source that failed at once ends the pipeline: removed only once closed.
      if (!sink.closed) await new Promise<void>((done) => sink.once('close', () => done()));
      rmSync(tmpPath, { force: true });
      throw error;
    }
    // @fastify/multipart marks a file cut at its `limits.fileSize` as truncated.
    if ((source as Readable & { truncated?: boolean }).truncated) tooLarge = true;
    if (tooLarge) rmSync(tmpPath, { force: true });
    return { tmpPath: tooLarge ? null : tmpPath, size, sha256: hash.digest('hex'), head: Buffer.concat(headChunks), tail, tooLarge };
  }

  /** The same for bytes already in memory (the demo's generated documents). */
  receiveBytes(bytes: Buffer): ReceivedFile {
    mkdirSync(this.tmpDir, { recursive: true });
    const tmpPath = join(this.tmpDir, randomUUID());
    writeFileSync(tmpPath, bytes, { flag: 'wx', mode: 0o600 });
    return {
      tmpPath,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      head: bytes.subarray(0, HEAD_BYTES),
      tail: bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)),
      tooLarge: false,
    };
  }

  /**
   * Moves a received file to its content address. `created` says whether this call put it there
   * (an identical file may be stored already), so that a refused event can take it back.
   */
  keep(file: ReceivedFile): { sha256: string; created: boolean } {
    if (!file.tmpPath) throw new Error('a refused file cannot be kept');
    const target = this.pathOf(file.sha256);
    const folder = dirname(target);
    const newFolder = !existsSync(folder);
    mkdirSync(folder, { recursive: true });
    let created = false;
    try {
      // link, not rename: it fails when the target exists, so a file already stored is never replaced.
      linkSync(file.tmpPath, target);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(file.tmpPath, { force: true });
    }
    // On the disk before the event that names it commits (at synchronous=FULL, the event survives a
    // power cut; so must its file): the bytes, the name in its folder, and a new folder in the root.
    this.flush(target);
    this.flush(folder);
    if (newFolder) this.flush(this.root);
    return { sha256: file.sha256, created };
  }

  /**
   * Deletes what uploads cut short (a crash, a kill) left in `tmp/`: no event names such a file.
   * Only at start, before anything uploads. Returns how many were removed.
   */
  removeLeftovers(): number {
    let names: string[];
    try {
      names = readdirSync(this.tmpDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    for (const name of names) rmSync(join(this.tmpDir, name), { recursive: true, force: true });
    return names.length;
  }

  /** Deletes a received file that is refused. */
  discard(file: ReceivedFile): void {
    if (file.tmpPath) rmSync(file.tmpPath, { force: true });
  }

  /** Deletes a stored file that no event names (its event was refused after it was kept). */
  forget(sha256: string): void {
    try {
      unlinkSync(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

const ephemeral = new WeakMap<object, string>();
const ephemeralDirs = new Set<string>();
let cleanupInstalled = false;

/**
 * The documents folder of a database: `documents/` beside its file (`data/isu-ib.sqlite` →
 * `data/documents/`), or a temporary folder for an in-memory database, removed when the process ends.
 */
export function documentsDirFor(db: Db): string {
  const client = db.$client;
  if (!client.memory && client.name && client.name !== ':memory:') return join(dirname(resolve(client.name)), 'documents');
  let dir = ephemeral.get(client);
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'isu-ib-documents-'));
    ephemeral.set(client, dir);
    ephemeralDirs.add(dir);
    if (!cleanupInstalled) {
      cleanupInstalled = true;
      process.once('exit', () => {
        for (const path of ephemeralDirs) rmSync(path, { recursive: true, force: true });
      });
    }
  }
  return dir;
}
