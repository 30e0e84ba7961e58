import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationMachineVersion } from '../../machines/application.ts';
import { defaultRegistry } from '../../machines/registry.ts';
import { loadStreamEvents, replayStream } from '../../src/engine/replay.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { splitSavings } from '../../src/domain/implementation.ts';
import { api, eventCount, startApp, token, type TestApp } from './http-helpers.ts';
import { multipart, samples } from './document-samples.ts';

/**
 * After the award through the JSON API (issue 11): one of last year's winners, awarded before the
 * upgrade (its stream still on version 2), driven from the agreement to closed with bearer tokens,
 * and every refusal on the way: it names what is missing, with both figures, and writes nothing.
 */
const PAST_PROGRAMME = 1;
let t: TestApp;
let id: number;
let streamId: string;
let applicant: string;
let coordinator: string;
let auditor: string;
let version: number;
let award: number;
let costs: { localBudget: number; residents: number; business: number };

beforeAll(async () => {
  t = await startApp();
  const row = t.db.$client
    .prepare<[number], { id: number; streamId: string; municipalityId: number; machineVersion: number; awarded: number; version: number }>(
      `SELECT a.id, a.stream_id AS streamId, a.municipality_id AS municipalityId, s.machine_version AS machineVersion, a.awarded_kopecks AS awarded, s.version
       FROM applications a JOIN streams s ON s.id = a.stream_id WHERE a.programme_id = ? AND a.state = 'awarded' ORDER BY a.id LIMIT 1`,
    )
    .get(PAST_PROGRAMME)!;
  expect(row.machineVersion).toBe(2);
  ({ id, streamId, version, awarded: award } = row);
  costs = (JSON.parse(t.db.$client.prepare<[string], { snapshot: string }>('SELECT snapshot FROM streams WHERE id = ?').get(streamId)!.snapshot) as { context: { form: { costs: typeof costs } } }).context.form.costs;
  const login = t.db.$client.prepare<[number], { login: string }>("SELECT login FROM users WHERE role = 'applicant' AND municipality_id = ? ORDER BY id LIMIT 1").get(row.municipalityId)!.login;
  [applicant, coordinator, auditor] = await Promise.all([token(t.app, login), token(t.app, 'coordinator1'), token(t.app, 'auditor1')]);
});

afterAll(async () => {
  await t.close();
});

const today = () => new Date().toISOString().slice(0, 10);

/** Sends an event that must go through; the version moves on. */
async function send(who: string, type: string, payload: Record<string, unknown> = {}) {
  const response = await api(t.app, who, 'POST', `/api/applications/${id}/events`, { type, expectedVersion: version, ...payload });
  expect(response.status, `${type}: ${JSON.stringify(response.body)}`).toBe(200);
  version = response.body.version;
  return response.body as { state: string; version: number };
}

/** Sends an event that must be refused with 422: nothing is written; the problems are returned. */
async function refused(who: string, type: string, payload: Record<string, unknown> = {}) {
  const events = eventCount(t.db);
  const response = await api(t.app, who, 'POST', `/api/applications/${id}/events`, { type, expectedVersion: version, ...payload });
  expect(response.status, `${type}: ${JSON.stringify(response.body)}`).toBe(422);
  expect(eventCount(t.db)).toBe(events);
  expect(t.db.$client.prepare<[string], { version: number }>('SELECT version FROM streams WHERE id = ?').get(streamId)!.version).toBe(version);
  return (response.body as { problems: { field?: string; code: string; params?: Record<string, unknown> }[] }).problems;
}

async function upload(who: string, kind: string, file: { name: string; bytes: Buffer }, caption?: string) {
  const body = multipart({ kind, ...(caption ? { caption } : {}), expectedVersion: String(version) }, file);
  const response = await t.app.inject({ method: 'POST', url: `/api/applications/${id}/evidence`, headers: { authorization: `Bearer ${who}`, 'content-type': body.contentType }, payload: body.payload });
  return response;
}

async function implementation() {
  const response = await api(t.app, coordinator, 'GET', `/api/applications/${id}/implementation`);
  expect(response.status).toBe(200);
  return response.body as Record<string, any>;
}

describe('after the award, through the API', () => {
  it('starts the implementation on version 3: the stream moves over at its next event', async () => {
    expect((await implementation()).missing).toEqual(['implementation-not-started']);
    await send(coordinator, 'start-implementation');
    const rows = loadStreamEvents(t.db, streamId);
    expect(rows.at(-1)!.machineVersion).toBe(applicationMachineVersion);
    expect(rows.slice(0, -1).every((row) => row.machineVersion === 2)).toBe(true);
  });

  it('signs the agreement only with the award as its subsidy and the shares at the programme minimums', async () => {
    const amounts = { ...costs, subsidy: award };
    const notAward = await refused(coordinator, 'sign-agreement', { agreementNo: 'С-1/2026', signedOn: today(), amounts: { ...amounts, subsidy: award + 100 } });
    expect(notAward).toContainEqual({ field: 'amounts.subsidy', code: 'agreement-subsidy-not-award', params: { subsidy: award + 100, award } });
    const low = await refused(coordinator, 'sign-agreement', { agreementNo: 'С-1/2026', signedOn: today(), amounts: { ...amounts, residents: 0 } });
    expect(low).toContainEqual({ field: 'amounts.residents', code: 'agreement-share-below', params: { source: 'residents', shareBp: 0, minBp: 300 } });
    const ahead = await refused(coordinator, 'sign-agreement', { agreementNo: 'С-1/2026', signedOn: '2099-01-01', amounts });
    expect(ahead).toContainEqual({ field: 'signedOn', code: 'date-ahead' });
    const impossible = await refused(coordinator, 'sign-agreement', { agreementNo: 'С-1/2026', signedOn: '2026-02-30', amounts });
    expect(impossible.map((p) => p.field)).toContain('signedOn');
    expect((await send(coordinator, 'sign-agreement', { agreementNo: 'С-1/2026', signedOn: today(), amounts })).state).toBe('implementation.co-financing');
  });

  it('refuses to confirm the co-financing until every source has its money, naming each with agreed and received', async () => {
    const none = await refused(coordinator, 'confirm-contributions');
    expect(none).toEqual(
      (['localBudget', 'residents', 'business'] as const)
        .filter((key) => costs[key] > 0)
        .map((key) => ({ field: 'general', code: 'contribution-short', params: { source: key, agreed: costs[key], received: 0 } })),
    );
    // The subsidy is the coordinator's to record.
    expect(await refused(applicant, 'record-contribution', { source: 'subsidy', amountKopecks: award, receivedOn: today() })).toContainEqual({ field: 'source', code: 'subsidy-by-coordinator' });
    await send(coordinator, 'record-contribution', { source: 'local-budget', amountKopecks: costs.localBudget, receivedOn: today(), payer: 'Администрация района', reference: 'п/п № 12' });
    const half = Math.floor(costs.residents / 2);
    await send(applicant, 'record-contribution', { source: 'residents', amountKopecks: half, receivedOn: today(), payer: 'Инициативная группа' });
    const mistake = (await send(applicant, 'record-contribution', { source: 'residents', amountKopecks: costs.residents, receivedOn: today(), payer: 'Ошибка ввода' })).version;
    if (costs.business > 0) await send(applicant, 'record-contribution', { source: 'business', amountKopecks: costs.business, receivedOn: today(), payer: 'ООО «Спонсор»' });
    // A mistake is cancelled, never edited: an unknown entry is refused, the entry itself is struck out with its reason.
    expect(await refused(applicant, 'cancel-contribution', { seq: 9999, reason: 'Нет такой' })).toContainEqual({ field: 'seq', code: 'contribution-unknown', params: { seq: 9999 } });
    await send(applicant, 'cancel-contribution', { seq: mistake, reason: 'Внесено по ошибке.' });
    const short = await refused(coordinator, 'confirm-contributions');
    expect(short).toEqual([{ field: 'general', code: 'contribution-short', params: { source: 'residents', agreed: costs.residents, received: half } }]);
    expect((await implementation()).missing).toEqual(['contribution-short:residents']);
    await send(applicant, 'record-contribution', { source: 'residents', amountKopecks: costs.residents - half, receivedOn: today(), payer: 'Сбор жителей' });
    // The agreement's scan may come now; photos and the act are of works under contract, and refused before it, storing nothing.
    const scan = await upload(applicant, 'agreement-scan', { name: 'соглашение.pdf', bytes: samples.pdf('Соглашение') });
    expect(scan.statusCode, scan.body).toBe(201);
    version = scan.json().version;
    const events = eventCount(t.db);
    const early = await upload(applicant, 'photo', { name: 'рано.png', bytes: samples.png(9) });
    expect(early.statusCode).toBe(422);
    expect(early.json().problems).toContainEqual({ field: 'kind', code: 'evidence-before-contract' });
    expect(eventCount(t.db)).toBe(events);
    expect((await send(coordinator, 'confirm-contributions')).state).toBe('implementation.procurement');
    const after = await implementation();
    expect(after.contributions.filter((c: { cancelled: unknown }) => c.cancelled)).toHaveLength(1);
    expect(after.received.bySource).toEqual({ ...costs, subsidy: 0 });
  });

  it('signs a contract no dearer than the agreement with a checked INN, and splits the savings by source', async () => {
    const agreed = award + costs.localBudget + costs.residents + costs.business;
    const contract = { contractNo: '3/2026-МК', signedOn: today(), contractor: 'ООО «Стройсервис»', contractorInn: '1852601814', noticeNo: '0813300012326000012' };
    expect(await refused(applicant, 'sign-contract', { ...contract, priceKopecks: agreed + 1 })).toContainEqual({ field: 'priceKopecks', code: 'price-above-agreement', params: { max: agreed } });
    const badInn = await refused(applicant, 'sign-contract', { ...contract, contractorInn: '1852601815', priceKopecks: agreed - 100_000 });
    expect(badInn.map((p) => p.field)).toEqual(['contractorInn']);
    const price = agreed - 12_345_67;
    expect((await send(applicant, 'sign-contract', { ...contract, priceKopecks: price })).state).toBe('implementation.works');
    const savings = (await implementation()).savings;
    expect(savings).toEqual({ ...splitSavings({ ...costs, subsidy: award }, price), rule: 'keep' });
    expect(Object.values(savings.bySource as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(agreed - price);
    await send(coordinator, 'record-contribution', { source: 'subsidy', amountKopecks: award, receivedOn: today(), payer: 'Минфин УР' });
  });

  it('keeps progress from going back, takes files only by upload, and completes the works only with the act and its milestone', async () => {
    await send(applicant, 'record-milestone', { kind: 'works-started', on: today() });
    await send(applicant, 'report-progress', { percent: 50 });
    expect(await refused(applicant, 'report-progress', { percent: 30 })).toContainEqual({ field: 'percent', code: 'progress-backwards', params: { current: 50 } });
    const sentAsEvent = await api(t.app, applicant, 'POST', `/api/applications/${id}/events`, { type: 'attach-evidence', expectedVersion: version, kind: 'photo', name: 'a.png', size: 10, mediaType: 'image/png', sha256: 'a'.repeat(64) });
    expect(sentAsEvent.status).toBe(422);
    const photo = await upload(applicant, 'photo', { name: 'ход работ.png', bytes: samples.png(5) }, 'Ход работ');
    expect(photo.statusCode, photo.body).toBe(201);
    version = photo.json().version;
    const notAPhoto = await upload(applicant, 'photo', { name: 'акт.pdf', bytes: samples.pdf() });
    expect(notAPhoto.statusCode).toBe(422);
    expect(notAPhoto.json().problems[0].field).toBe('file');
    const early = await refused(coordinator, 'complete-works');
    expect(early.map((p) => p.code)).toEqual(['acceptance-act-missing', 'acceptance-milestone-missing']);
    const act = await upload(applicant, 'acceptance-act', { name: 'акт приёмки.pdf', bytes: samples.pdf('Акт приёмки') });
    expect(act.statusCode, act.body).toBe(201);
    version = act.json().version;
    expect((await refused(coordinator, 'complete-works')).map((p) => p.code)).toEqual(['acceptance-milestone-missing']);
    await send(applicant, 'record-milestone', { kind: 'acceptance-signed', on: today() });
    expect((await send(coordinator, 'complete-works')).state).toBe('implementation.completed');
    const state = await implementation();
    expect(state.photos).toHaveLength(1);
    expect(state.photos[0]).toMatchObject({ caption: 'Ход работ', mediaType: 'image/png' });
    const download = await t.app.inject({ method: 'GET', url: state.photos[0].href, headers: { authorization: `Bearer ${applicant}` } });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(samples.png(5))).toBe(true);
  });

  it('closes only with the spending report, a monitoring visit and no open issue, each missing item named', async () => {
    expect((await refused(coordinator, 'close')).map((p) => p.code)).toEqual(['spending-report-missing', 'monitoring-visit-missing']);
    const visit = (await send(coordinator, 'record-monitoring', { visitedOn: today(), inspector: 'С. Иванов', verdict: 'issues', finding: 'Нет информационного щита.' })).version;
    const over = await refused(applicant, 'report-spending', { actual: { subsidy: award + 1, localBudget: 0, residents: 0, business: 0 } });
    expect(over).toEqual([{ field: 'actual.subsidy', code: 'spending-above-received', params: { source: 'subsidy', spent: award + 1, received: award } }]);
    await send(applicant, 'report-spending', { actual: { subsidy: award, localBudget: costs.localBudget, residents: 0, business: 0 } });
    expect(await refused(coordinator, 'close')).toEqual([{ field: 'general', code: 'monitoring-issue-open', params: { seq: visit, visitedOn: today() } }]);
    expect(await refused(coordinator, 'resolve-issue', { seq: visit - 1, note: 'Не то' })).toContainEqual({ field: 'seq', code: 'monitoring-issue-unknown', params: { seq: visit - 1 } });
    await send(coordinator, 'resolve-issue', { seq: visit, note: 'Щит установлен.' });
    expect((await send(coordinator, 'close')).state).toBe('closed');
    expect((await implementation()).missing).toEqual([]);
  });

  it('leaves a history that replays across the version border and a ledger that verifies', async () => {
    const stream = t.app.engine.loadStream(streamId)!;
    expect(replayStream(defaultRegistry(), stream, loadStreamEvents(t.db, streamId)).problems).toEqual([]);
    expect(verifyLedger(t.db, defaultRegistry()).problems).toEqual([]);
    const verified = await api(t.app, auditor, 'GET', '/api/audit/verify');
    expect(verified.status).toBe(200);
    expect(verified.body.ok).toBe(true);
  });
});
