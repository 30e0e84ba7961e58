import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/db/client.ts';
import { demoFiles } from '../demo-template.ts';
import { buildApp } from '../../src/http/app.ts';
import { en } from '../../src/i18n/en.ts';
import { ru } from '../../src/i18n/ru.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { api, ledgerReport, login, token } from './http-helpers.ts';
import { checkDocumentFiles, verifyLedgerAndDocuments } from '../../src/workflows/documents/check.ts';
import { DocumentStore, documentsDirFor } from '../../src/workflows/documents/store.ts';
import { verifyLedger } from '../../src/engine/verify.ts';

/**
 * The document files against the log: every `attach-document` event records its file's SHA-256,
 * and verification (engine, `npm run verify`, the API and the auditor's pages) holds the stored
 * file to it. Each case alters a copy of a demo database's documents folder behind the app's back.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const registry = defaultRegistry();
let dir: string;
let attachEvents: number;

/** An attach-document event whose file no other event names, so that exactly one problem is expected. */
interface Target {
  stream: string;
  seq: number;
  applicationId: number;
  name: string;
  sha256: string;
}
let target: Target;
/** A file two events name (the same document attached twice): both are named when it changes. */
let shared: { sha256: string; events: { stream: string; seq: number }[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isu-ib-document-files-'));
  const db = openDb({ path: await demoFiles(join(dir, 'clean'), { now: '2027-05-20T09:00:00.000Z' }), synchronous: 'OFF' });
  // Every file an event names: the attached documents, an implementation's evidence (issue 11) and the files attached to messages (issue 12).
  attachEvents =
    db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM events WHERE type IN ('attach-document', 'attach-evidence')").get()!.n +
    db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM events, json_each(events.payload, '$.attachments') WHERE events.type = 'post-message'").get()!.n;
  const attached = db.$client
    // The applications' documents (the journal's have their own test): the audit's verdict is per application.
    .prepare<[], { stream: string; seq: number; payload: string }>("SELECT stream_id AS stream, seq, payload FROM events WHERE type = 'attach-document' AND stream_id LIKE 'application-%' ORDER BY position")
    .all()
    .map((row) => ({ ...row, ...(JSON.parse(row.payload) as { name: string; sha256: string }) }));
  const namings = (sha256: string) => attached.filter((row) => row.sha256 === sha256);
  // One from the middle of the log, not the first the loop meets.
  const once = attached.filter((row) => namings(row.sha256).length === 1);
  const chosen = once[Math.floor(once.length / 2)]!;
  target = { stream: chosen.stream, seq: chosen.seq, applicationId: Number(chosen.stream.replace('application-', '')), name: chosen.name, sha256: chosen.sha256 };
  const twice = attached.find((row) => namings(row.sha256).length > 1)!;
  shared = { sha256: twice.sha256, events: namings(twice.sha256).map(({ stream, seq }) => ({ stream, seq })) };
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the clean database with its own documents folder beside it, where the app and the CLI look. */
function copyOfDemo(name: string): { databasePath: string; store: DocumentStore } {
  cpSync(join(dir, 'clean'), join(dir, name), { recursive: true });
  return { databasePath: join(dir, name, 'isu-ib.sqlite'), store: new DocumentStore(join(dir, name, 'documents')) };
}

function alterOneByte(store: DocumentStore, sha256: string): void {
  const path = store.pathOf(sha256);
  const bytes = readFileSync(path);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0x01;
  writeFileSync(path, bytes);
}

const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.$client.close();
});
function open(databasePath: string): Db {
  const db = openDb({ path: databasePath, synchronous: 'OFF' });
  opened.push(db);
  return db;
}

function runVerify(databasePath: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/verify.ts'], { cwd: root, env: { ...process.env, DATABASE_PATH: databasePath }, timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout });
    });
  });
}

describe('the document-file check', () => {
  it('is clean on a fresh demo: every attached file is there and hashes to its event', async () => {
    const { databasePath, store } = copyOfDemo('fresh');
    const db = open(databasePath);
    expect(documentsDirFor(db)).toBe(store.root);
    expect(attachEvents).toBeGreaterThan(100);
    const report = await verifyLedgerAndDocuments(db, registry, store);
    expect(report).toMatchObject({ ok: true, problems: [], documents: attachEvents });
    const perApplication = await checkDocumentFiles(db, store, { streamId: target.stream });
    expect(perApplication.problems).toEqual([]);
    expect(perApplication.files).toBeGreaterThan(0);
    expect(perApplication.files).toBeLessThan(attachEvents);
  });

  it('one byte of a stored file altered: document-altered at that stream and seq, while the log itself still verifies', async () => {
    const { databasePath, store } = copyOfDemo('altered');
    alterOneByte(store, target.sha256);
    const db = open(databasePath);
    expect(verifyLedger(db, registry).ok).toBe(true);
    const report = await verifyLedgerAndDocuments(db, registry, store);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        stream: target.stream,
        seq: target.seq,
        kind: 'document-altered',
        message: expect.stringContaining(`“${target.name}”`),
        file: { name: target.name, sha256: target.sha256 },
      },
    ]);
    // The application's own verify names it; another application's does not.
    expect((await checkDocumentFiles(db, store, { streamId: target.stream })).problems.map((p) => [p.stream, p.seq, p.kind])).toEqual([[target.stream, target.seq, 'document-altered']]);
    const other = db.$client.prepare<[string], { id: string }>("SELECT DISTINCT stream_id AS id FROM events WHERE type = 'attach-document' AND stream_id <> ? LIMIT 1").get(target.stream)!.id;
    expect((await checkDocumentFiles(db, store, { streamId: other })).problems).toEqual([]);
  });

  it('a stored file cut short: document-altered, with both sizes', async () => {
    const { databasePath, store } = copyOfDemo('truncated');
    truncateSync(store.pathOf(target.sha256), 10);
    const report = await verifyLedgerAndDocuments(open(databasePath), registry, store);
    expect(report.problems.map((p) => [p.stream, p.seq, p.kind])).toEqual([[target.stream, target.seq, 'document-altered']]);
    expect(report.problems[0]!.message).toMatch(/10 bytes instead of \d+/);
  });

  it('a stored file deleted: document-missing at that stream and seq', async () => {
    const { databasePath, store } = copyOfDemo('deleted');
    unlinkSync(store.pathOf(target.sha256));
    const report = await verifyLedgerAndDocuments(open(databasePath), registry, store);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        stream: target.stream,
        seq: target.seq,
        kind: 'document-missing',
        message: `the file “${target.name}” (SHA-256 ${target.sha256}) is not in the document store`,
        file: { name: target.name, sha256: target.sha256 },
      },
    ]);
  });

  it('a file two events name: both events are named', async () => {
    const { databasePath, store } = copyOfDemo('shared');
    alterOneByte(store, shared.sha256);
    const report = await verifyLedgerAndDocuments(open(databasePath), registry, store);
    expect(report.problems.map((p) => ({ stream: p.stream, seq: p.seq, kind: p.kind }))).toEqual(shared.events.map((e) => ({ ...e, kind: 'document-altered' })));
  });

  it('the documents folder gone altogether: every attach-document event is named, nothing throws', async () => {
    const { databasePath, store } = copyOfDemo('no-folder');
    rmSync(store.root, { recursive: true });
    const report = await verifyLedgerAndDocuments(open(databasePath), registry, store);
    expect(report.problems).toHaveLength(attachEvents);
    expect(new Set(report.problems.map((p) => p.kind))).toEqual(new Set(['document-missing']));
  });
});

describe('npm run verify', () => {
  it('on a fresh demo: counts the checked files and exits 0', async () => {
    const { databasePath, store } = copyOfDemo('cli-fresh');
    const { code, stdout } = await runVerify(databasePath);
    expect(code).toBe(0);
    expect(stdout).toContain(`documents: ${attachEvents} attached file(s) checked in ${store.root}`);
    expect(stdout).toContain('OK: every stream replays and every chain holds, and every document file is the one its event names');
    expect(stdout).not.toContain('PROBLEM');
  }, 60_000);

  it('an altered file: exits 1 naming the stream, the seq, the kind and the file', async () => {
    const { databasePath, store } = copyOfDemo('cli-altered');
    alterOneByte(store, target.sha256);
    const { code, stdout } = await runVerify(databasePath);
    expect(code).toBe(1);
    const line = stdout.split('\n').find((l) => l.startsWith('PROBLEM'));
    expect(line).toContain(`PROBLEM document-altered in ${target.stream} at event ${target.seq}: the stored file “${target.name}” is not the file the event names`);
    expect(line).toContain(`[file ${store.pathOf(target.sha256)}]`);
    expect(stdout).toContain('FAILED: 1 problem(s)');
  }, 60_000);

  it('a deleted file: exits 1 naming it as missing', async () => {
    const { databasePath, store } = copyOfDemo('cli-deleted');
    unlinkSync(store.pathOf(target.sha256));
    const { code, stdout } = await runVerify(databasePath);
    expect(code).toBe(1);
    expect(stdout).toContain(`PROBLEM document-missing in ${target.stream} at event ${target.seq}: the file “${target.name}” (SHA-256 ${target.sha256}) is not in the document store [file ${store.pathOf(target.sha256)}]`);
    expect(stdout).toContain('FAILED: 1 problem(s)');
  }, 60_000);
});

describe('the auditor’s pages and the API', () => {
  it('show a clean verdict with the files counted, then the altered file in plain words', async () => {
    const { databasePath, store } = copyOfDemo('http');
    const db = open(databasePath);
    const app = await buildApp({ db, rateLimitMax: 100_000 });
    try {
      await app.ready();
      expect(app.documentStore.root).toBe(store.root);
      const auditor = await login(app, 'auditor1');
      const bearer = await token(app, 'auditor1');

      const clean = await ledgerReport(app, auditor);
      expect(clean.body).toContain('verdict--ok');
      expect(clean.body).toContain(`<dd id="ledger-documents">${attachEvents}</dd>`);
      const cleanVerdict = await auditor.get(`/audit/applications/${target.applicationId}/verify`, { 'hx-request': 'true' });
      expect(cleanVerdict.body).toContain('verdict--ok');
      expect(cleanVerdict.body).toContain('id="verdict-documents"');
      expect((await api(app, bearer, 'GET', '/api/audit/verify')).body).toMatchObject({ ok: true, problems: [], documents: attachEvents });

      alterOneByte(store, target.sha256);
      const problemRow = `data-kind="document-altered" data-stream="${target.stream}" data-seq="${target.seq}"`;
      const ledger = await ledgerReport(app, auditor);
      expect(ledger.body).toContain('verdict--bad');
      expect(ledger.body).toContain(problemRow);
      expect(ledger.body).toContain(ru['audit.kind.document-altered']);
      const verdict = await auditor.get(`/audit/applications/${target.applicationId}/verify`, { 'hx-request': 'true' });
      expect(verdict.body).toContain('verdict--bad');
      expect(verdict.body).toContain(problemRow);
      expect(verdict.body).toContain(ru['audit.kind.document-altered']);
      // The plain history page does not verify, so it does not hash the files.
      expect((await auditor.get(`/audit/applications/${target.applicationId}`)).body).not.toContain('verdict--bad');
      const response = await api(app, bearer, 'GET', '/api/audit/verify');
      expect(response.body.ok).toBe(false);
      expect(response.body.problems).toEqual([expect.objectContaining({ stream: target.stream, seq: target.seq, kind: 'document-altered', file: { name: target.name, sha256: target.sha256 } })]);

      unlinkSync(store.pathOf(target.sha256));
      const english = await ledgerReport(app, auditor, '/audit/ledger?lang=en');
      expect(english.body).toContain(`data-kind="document-missing" data-stream="${target.stream}" data-seq="${target.seq}"`);
      expect(english.body).toContain(en['audit.kind.document-missing']);
    } finally {
      await app.close();
    }
  }, 60_000);
});
