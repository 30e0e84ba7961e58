import { afterEach, describe, expect, it } from 'vitest';
import { recordSetting } from '../../src/engine/settings-log.ts';
import { sendApplicationEvent } from '../../src/workflows/application/commands.ts';
import { postMessage } from '../../src/workflows/conversation/commands.ts';
import { verifyLedger } from '../../src/engine/verify.ts';
import { runReminders } from '../../src/workflows/notifications/scheduler.ts';
import { inboxOnly } from '../../src/workflows/index.ts';
import { recordDecision } from '../../src/workflows/commission/decision.ts';
import { communicationsWorld, mailOptions, PASSWORD, TestSmtp, until, type World } from './communications-fixture.ts';
import { multipart, samples } from './document-samples.ts';

/**
 * Communications (issue 12) through the real app and a real SMTP server in the test process:
 * who gets what by e-mail, retries while the server is down, restarts that send each message
 * once, the conversation's visibility on every route, and verify over the messages.
 */

let world: World | null = null;
let smtp: TestSmtp | null = null;
afterEach(async () => {
  await world?.close();
  await smtp?.stop();
  world = null;
  smtp = null;
});

const mailStates = (w: World) => Object.fromEntries(w.db.$client.prepare<[], { s: string; n: number }>('SELECT mail_state AS s, count(*) AS n FROM notifications GROUP BY mail_state').all().map((r) => [r.s, r.n]));
/** How a notification names the application: its registration number (issue 13). */
const numberOf = (w: World, id: number) => w.db.$client.prepare<[number], { no: string | null }>('SELECT registration_no AS no FROM applications WHERE id = ?').get(id)?.no ?? String(id);
const pendingMail = (w: World) => w.db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM notifications WHERE mail_state IN ('pending', 'sending')").get()!.n;

describe('e-mail by SMTP', () => {
  it('a return for revision e-mails each applicant of that municipality exactly once, and nobody else, in their language with the link', async () => {
    smtp = await new TestSmtp().start();
    world = await communicationsWorld({ communications: mailOptions(smtp) });
    const w = world;
    w.db.$client.prepare("UPDATE users SET lang = 'en' WHERE id = ?").run(w.users.applicantA2.id);
    const { id, version } = w.applicationUnderReview();
    await until(() => pendingMail(w) === 0, 10_000, 'the submission mail to be delivered');
    const before = smtp.received.length;
    const returned = sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'costs.subsidy', text: 'Уточните смету.' }] }, version);
    // Written in the event's own transaction: the rows are there before any delivery.
    const rows = w.db.$client.prepare<[number], { userId: number; mailState: string }>('SELECT user_id AS userId, mail_state AS mailState FROM notifications WHERE event_position = ?').all(returned.event.position);
    expect(rows.map((r) => r.userId).sort()).toEqual([w.users.applicantA1.id, w.users.applicantA2.id].sort());
    await until(() => pendingMail(w) === 0 && smtp!.received.length >= before + 2, 10_000, 'the return mails');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mails = smtp.received.slice(before);
    expect(mails.map((m) => m.to).flat().sort()).toEqual([w.users.applicantA1.email, w.users.applicantA2.email].sort());
    expect(mails.filter((m) => m.to.includes(w.users.applicantB.email))).toEqual([]);
    const russian = mails.find((m) => m.to.includes(w.users.applicantA1.email))!;
    const english = mails.find((m) => m.to.includes(w.users.applicantA2.email))!;
    expect(russian.subject).toContain(`Заявка № ${numberOf(w, id)} возвращена на доработку`);
    expect(english.subject).toContain(`Application No. ${numberOf(w, id)} was returned for revision`);
    for (const mail of mails) {
      expect(mail.text).toContain(`https://isu.example.org/applications/${id}`);
      expect(mail.html).toContain(`href="https://isu.example.org/applications/${id}"`);
      expect(mail.messageId).toMatch(/^<isu-ib\.[0-9a-f]{32}@isu\.example\.org>$/);
    }
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(2);
  });

  it('retries while the SMTP server is down and delivers when it is back', async () => {
    const { w, id, port, server } = await returnedWhileSmtpIsDown();
    await until(() => w.db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM notifications WHERE mail_state = 'pending' AND attempts >= 2").get()!.n >= 2, 10_000, 'two failed attempts');
    const failed = w.db.$client.prepare<[], { lastError: string }>("SELECT last_error AS lastError FROM notifications WHERE mail_state = 'pending' AND attempts > 0 LIMIT 1").get()!;
    expect(failed.lastError).toMatch(/ECONNREFUSED|connect/i);
    expect(server.received).toEqual([]);
    await server.start(port);
    await until(() => pendingMail(w) === 0, 10_000, 'delivery after the server came back');
    const returns = server.received.filter((m) => m.subject.includes(`№ ${numberOf(w, id)} возвращена`));
    expect(returns.map((m) => m.to).flat().sort()).toEqual([w.users.applicantA1.email, w.users.applicantA2.email].sort());
    expect(mailStates(w).failed ?? 0).toBe(0);
  });

  it('a final failure (the server refuses the address) is failed at once and shown to the admin, who may send it again', async () => {
    smtp = await new TestSmtp().start();
    world = await communicationsWorld({ communications: mailOptions(smtp) });
    const w = world;
    smtp.refused.add('nobody@example.org');
    w.db.$client.prepare("UPDATE users SET email = 'nobody@example.org' WHERE id = ?").run(w.users.applicantA2.id);
    const { id, version } = w.applicationUnderReview();
    sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Приложите протокол.' }] }, version);
    await until(() => pendingMail(w) === 0, 10_000, 'the outbox to settle');
    const page = await w.app.inject({ method: 'GET', url: '/admin/mail', headers: { cookie: w.cookie(w.users.admin) } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="mail-failures"');
    expect(page.body).toContain('nobody@example.org');
    expect(page.body).toContain('SMTP-сервер smtp://127.0.0.1');
    const failed = w.db.$client.prepare<[], { id: number; attempts: number; lastError: string }>("SELECT id, attempts, last_error AS lastError FROM notifications WHERE mail_state = 'failed'").all();
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attempts).toBe(1);
    expect(failed[0]!.lastError).toMatch(/550|mailbox/);
    // The admin corrects the address and sends it again.
    w.db.$client.prepare("UPDATE users SET email = 'applicant.a2@example.org' WHERE id = ?").run(w.users.applicantA2.id);
    const admin = w.browser(w.users.admin);
    await admin.get('/admin/mail');
    expect((await admin.post(`/admin/mail/${failed[0]!.id}/retry`, {})).statusCode).toBe(303);
    await until(() => pendingMail(w) === 0);
    expect(smtp.to('applicant.a2@example.org').some((m) => m.subject.includes(`№ ${numberOf(w, id)} возвращена`))).toBe(true);
  });

  it('restarting the app while mail is pending sends each message exactly once', async () => {
    const { w, id, port, server } = await returnedWhileSmtpIsDown();
    postMessage(w.app.engine, w.users.reviewer, id, { text: 'Жду исправленную смету.' });
    const queued = w.db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM notifications WHERE mail_state <> 'none'").get()!.n;
    await until(() => w.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM notifications WHERE attempts > 0').get()!.n > 0, 10_000, 'a failed attempt');
    // Restarted twice while the server is down, then once more after it is back.
    await w.restart();
    await w.restart();
    await server.start(port);
    await w.restart();
    await until(() => pendingMail(w) === 0, 10_000, 'delivery after the restarts');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const ids = server.received.map((m) => m.messageId);
    expect(ids.length).toBe(queued);
    expect(new Set(ids).size).toBe(ids.length);
    expect(mailStates(w).sent).toBe(queued);
  });

  it('without SMTP_URL the outbox writes inbox notifications only, and the admin page says so', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id, version } = w.applicationUnderReview();
    sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Приложите протокол.' }] }, version);
    expect(mailStates(w)).toEqual({ none: expect.any(Number) });
    const page = await w.app.inject({ method: 'GET', url: '/admin/mail', headers: { cookie: w.cookie(w.users.admin) } });
    expect(page.body).toContain('нет SMTP_URL');
  });
});

describe('the conversation', () => {
  it('never moves the application version: a reviewer’s next click after a message is no conflict', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id, version } = w.applicationUnderReview();
    const token = w.bearer(w.users.applicantA1);
    const posted = await w.app.inject({ method: 'POST', url: `/api/applications/${id}/messages`, headers: { authorization: `Bearer ${token}` }, payload: { text: 'Вопрос по смете.' } });
    expect(posted.statusCode, posted.body).toBe(201);
    expect(posted.json()).toMatchObject({ seq: 2, text: 'Вопрос по смете.', internal: false, replyTo: null });
    const accepted = await w.app.inject({ method: 'POST', url: `/api/applications/${id}/events`, headers: { authorization: `Bearer ${w.bearer(w.users.reviewer)}` }, payload: { type: 'accept', expectedVersion: version } });
    expect(accepted.statusCode, accepted.body).toBe(200);
  });

  it('an applicant of another municipality can neither read nor post: 404 on every route', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id } = w.applicationUnderReview();
    const posted = postMessage(w.app.engine, w.users.applicantA1, id, { text: 'Наш вопрос.' });
    const events = w.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
    const outsider = { authorization: `Bearer ${w.bearer(w.users.applicantB)}` };
    const cookie = { cookie: w.cookie(w.users.applicantB) };
    const requests = [
      { method: 'GET' as const, url: `/api/applications/${id}/messages`, headers: outsider },
      { method: 'POST' as const, url: `/api/applications/${id}/messages`, headers: outsider, payload: { text: 'Чужой вопрос.' } },
      { method: 'GET' as const, url: `/applications/${id}/conversation`, headers: { ...cookie, 'hx-request': 'true' } },
      { method: 'GET' as const, url: `/api/applications/${id}/messages/${posted.seq}/files/${'a'.repeat(64)}`, headers: outsider },
    ];
    for (const request of requests) {
      const response = await w.app.inject(request);
      expect(response.statusCode, `${request.method} ${request.url}: ${response.body.slice(0, 200)}`).toBe(404);
    }
    // The page form, with a valid CSRF token of the outsider's session.
    const outsiderBrowser = w.browser(w.users.applicantB);
    await outsiderBrowser.get('/notifications');
    expect((await outsiderBrowser.post(`/applications/${id}/messages`, { text: 'x' })).statusCode).toBe(404);
    expect((await outsiderBrowser.get(`/applications/${id}`)).statusCode).toBe(404);
    expect(w.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n).toBe(events);
  });

  it('an internal note never reaches an applicant: not by the API, the page, the fragment, an attachment, the inbox, an e-mail or an export', async () => {
    smtp = await new TestSmtp().start();
    world = await communicationsWorld({ communications: mailOptions(smtp) });
    const w = world;
    const { id } = w.applicationUnderReview();
    const secret = 'Секретная заметка: проверить смету у подрядчика';
    const file = multipart({ text: secret, internal: 'true' }, { name: 'заметка.pdf', bytes: samples.pdf() });
    const note = await w.app.inject({ method: 'POST', url: `/api/applications/${id}/messages`, headers: { authorization: `Bearer ${w.bearer(w.users.coordinator)}`, 'content-type': file.contentType }, payload: file.payload });
    expect(note.statusCode, note.body).toBe(201);
    const { seq, attachments } = note.json() as { seq: number; attachments: { sha256: string }[] };
    expect(attachments).toHaveLength(1);
    postMessage(w.app.engine, w.users.reviewer, id, { text: 'Открытое сообщение заявителю.' });
    await until(() => pendingMail(w) === 0, 10_000, 'the mails');
    const applicant = w.users.applicantA1;
    const bearer = { authorization: `Bearer ${w.bearer(applicant)}` };
    const cookie = { cookie: w.cookie(applicant) };
    const api = await w.app.inject({ method: 'GET', url: `/api/applications/${id}/messages`, headers: bearer });
    expect(api.json().map((m: { text: string }) => m.text)).toEqual(['Открытое сообщение заявителю.']);
    const staff = await w.app.inject({ method: 'GET', url: `/api/applications/${id}/messages`, headers: { authorization: `Bearer ${w.bearer(w.users.reviewer2)}` } });
    expect(staff.json().map((m: { text: string }) => m.text)).toContain(secret);
    const leaks: string[] = [];
    for (const url of [`/applications/${id}`, `/applications/${id}/conversation`, '/notifications', `/audit/applications/${id}`, `/audit/applications/${id}/history.json`, `/audit/applications/${id}/history.csv`]) {
      const page = await w.app.inject({ method: 'GET', url, headers: { ...cookie, 'hx-request': 'true' } });
      expect(page.statusCode, url).toBeLessThan(400);
      if (page.body.includes('Секретная заметка') || page.body.includes('заметка.pdf')) leaks.push(url);
    }
    for (const url of [`/api/notifications`, `/api/applications/${id}`, `/api/applications/${id}/history`, `/api/applications/${id}/history.json`]) {
      const response = await w.app.inject({ method: 'GET', url, headers: bearer });
      if (response.body.includes('Секретная заметка')) leaks.push(url);
    }
    expect(leaks).toEqual([]);
    const download = await w.app.inject({ method: 'GET', url: `/api/applications/${id}/messages/${seq}/files/${attachments[0]!.sha256}`, headers: bearer });
    expect(download.statusCode).toBe(404);
    const staffDownload = await w.app.inject({ method: 'GET', url: `/api/applications/${id}/messages/${seq}/files/${attachments[0]!.sha256}`, headers: { authorization: `Bearer ${w.bearer(w.users.reviewer2)}` } });
    expect(staffDownload.statusCode).toBe(200);
    expect(w.db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.kind = 'internal-note' AND u.role = 'applicant'").get()!.n).toBe(0);
    for (const user of [w.users.applicantA1, w.users.applicantA2, w.users.applicantB]) {
      for (const mail of smtp.to(user.email)) expect(mail.text + mail.html).not.toContain('Секретная');
    }
    // The staff heard of it by e-mail: the reviewer handling the application.
    expect(smtp.to(w.users.reviewer.email).some((mail) => mail.text.includes('Секретная'))).toBe(true);
    // An applicant may not write one, nor point a public message at one.
    const refused = await w.app.inject({ method: 'POST', url: `/api/applications/${id}/messages`, headers: bearer, payload: { text: 'Внутреннее?', internal: true } });
    expect(refused.statusCode).toBe(422);
    const pointed = await w.app.inject({ method: 'POST', url: `/api/applications/${id}/messages`, headers: bearer, payload: { text: 'Ответ', replyTo: `message:${seq}` } });
    expect(pointed.statusCode).toBe(422);
    expect(pointed.json().problems[0].code).toBe('conversation.reply-to-internal');
  });

  it('an answer to a remark stands beside the field, and the reviewer sees it at the re-review', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id, version } = w.applicationUnderReview();
    const returned = sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'costs.subsidy', text: 'Субсидия выше сметы.' }] }, version);
    const remark = `remark:${returned.event.seq}:0`;
    const answer = await w.app.inject({ method: 'POST', url: `/api/applications/${id}/messages`, headers: { authorization: `Bearer ${w.bearer(w.users.applicantA1)}` }, payload: { text: 'Исправили: субсидия уменьшена.', replyTo: remark } });
    expect(answer.statusCode, answer.body).toBe(201);
    expect(answer.json().remark).toEqual({ id: remark, field: 'costs.subsidy', text: 'Субсидия выше сметы.' });
    // The reviewer may not answer the remark, only the applicant.
    const byReviewer = postAs(w, w.users.reviewer, id, { text: 'x', replyTo: remark });
    expect(byReviewer).toBe('conversation.answer-applicants-only');
    sendApplicationEvent(w.app.engine, w.users.applicantA1, id, 'submit', {}, returned.version);
    const page = await w.app.inject({ method: 'GET', url: `/applications/${id}`, headers: { cookie: w.cookie(w.users.reviewer) } });
    const block = /<div class="remark-answers" id="answers-costs-subsidy"[\s\S]*?<\/div>\s*<\/div>/.exec(page.body)?.[0] ?? '';
    expect(block).toContain('Субсидия выше сметы.');
    expect(block).toContain('Исправили: субсидия уменьшена.');
    // Once resubmitted the remark is closed: no more answers to it.
    expect(postAs(w, w.users.applicantA1, id, { text: 'Ещё', replyTo: remark })).toBe('conversation.remark-closed');
  });

  it('verify finds a message changed or deleted behind the engine’s back', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id } = w.applicationUnderReview();
    postMessage(w.app.engine, w.users.applicantA1, id, { text: 'Первое сообщение.' });
    postMessage(w.app.engine, w.users.reviewer, id, { text: 'Второе сообщение.' });
    postMessage(w.app.engine, w.users.applicantA1, id, { text: 'Третье сообщение.' });
    expect(verifyLedger(w.db, w.app.engine.registry).ok).toBe(true);
    const sqlite = w.db.$client;
    sqlite.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;');
    for (const trigger of sqlite.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").all()) sqlite.exec(`DROP TRIGGER "${trigger.name}"`);
    sqlite.prepare("UPDATE events SET payload = replace(payload, 'Второе', 'Другое') WHERE stream_id = ? AND seq = 3").run(`conversation-${id}`);
    const changed = verifyLedger(w.db, w.app.engine.registry);
    expect(changed.problems).toContainEqual(expect.objectContaining({ stream: `conversation-${id}`, seq: 3, kind: 'hash-mismatch' }));
    sqlite.prepare('DELETE FROM events WHERE stream_id = ? AND seq = 2').run(`conversation-${id}`);
    const deleted = verifyLedger(w.db, w.app.engine.registry);
    expect(deleted.problems).toContainEqual(expect.objectContaining({ stream: `conversation-${id}`, seq: 2, kind: 'missing-event' }));
  });
});

/** Posts through the command and returns the refusal's first problem code, or 'ok'. */
/** An application returned for revision while the SMTP server is down: its e-mails wait in the outbox. */
async function returnedWhileSmtpIsDown(): Promise<{ w: World; id: number; port: number; server: TestSmtp }> {
  const server = await new TestSmtp().start();
  smtp = server;
  const port = server.port;
  await server.stop();
  world = await communicationsWorld({ communications: mailOptions(server) });
  const w = world;
  const { id, version } = w.applicationUnderReview();
  sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Приложите протокол.' }] }, version);
  return { w, id, port, server };
}

function postAs(w: World, actor: World['users']['reviewer'], id: number, message: { text: string; replyTo?: string; internal?: boolean }): string {
  try {
    postMessage(w.app.engine, actor, id, message);
    return 'ok';
  } catch (error) {
    return (error as { problems?: { code: string }[]; reason?: string }).problems?.[0]?.code ?? (error as Error).message;
  }
}

describe('the inbox', () => {
  it('unread first, mark read by ids (only one’s own) or all, over the API and the page', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id, version } = w.applicationUnderReview();
    const bearer = { authorization: `Bearer ${w.bearer(w.users.applicantA1)}` };
    // The stages that started told the applicant already: read those first.
    expect((await w.app.inject({ method: 'POST', url: '/api/notifications/read', headers: bearer, payload: { all: true } })).json().unread).toBe(0);
    sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Приложите протокол.' }] }, version);
    postMessage(w.app.engine, w.users.reviewer, id, { text: 'Жду исправлений.' });
    const list = await w.app.inject({ method: 'GET', url: '/api/notifications?unread=true', headers: bearer });
    const body = list.json() as { unread: number; notifications: { id: number; kind: string; link: string }[] };
    expect(body.unread).toBe(2);
    expect(body.notifications.map((n) => n.kind)).toEqual(['message', 'returned']);
    expect(body.notifications[0]!.link).toBe(`/applications/${id}#message-2`);
    const others = w.db.$client.prepare<[number], { id: number }>('SELECT id FROM notifications WHERE user_id = ?').all(w.users.applicantA2.id).map((r) => r.id);
    const mine = await w.app.inject({ method: 'POST', url: '/api/notifications/read', headers: bearer, payload: { ids: [body.notifications[1]!.id, ...others] } });
    expect(mine.json()).toEqual({ read: 1, unread: 1 });
    expect(w.db.$client.prepare<[number], { n: number }>('SELECT count(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL').get(w.users.applicantA2.id)!.n).toBe(others.length);
    const bad = await w.app.inject({ method: 'POST', url: '/api/notifications/read', headers: bearer, payload: { ids: 'all' } });
    expect(bad.statusCode).toBe(422);
    const page = await w.app.inject({ method: 'GET', url: '/notifications', headers: { cookie: w.cookie(w.users.applicantA1) } });
    expect(page.body).toContain('inbox__item--unread');
    expect(page.body.indexOf('inbox__item--unread')).toBeLessThan(page.body.indexOf('class="inbox__item"'));
    expect(page.body.indexOf('Новое сообщение по заявке')).toBeLessThan(page.body.indexOf(`Заявка № ${numberOf(w, id)} возвращена`));
    expect(page.body).toMatch(/id="unread-count"[^>]*>1</);
    const all = await w.app.inject({ method: 'POST', url: '/api/notifications/read', headers: bearer, payload: { all: true } });
    expect(all.json()).toEqual({ read: 1, unread: 0 });
    const count = await w.app.inject({ method: 'GET', url: '/notifications/count?known=1', headers: { cookie: w.cookie(w.users.applicantA1), 'hx-request': 'true' } });
    expect(count.headers['hx-trigger']).toBe('notifications-changed');
    expect(count.body).toMatch(/id="unread-count"[^>]*>0</);
  });

  it('the user chooses which kinds come by e-mail; the rest reach the inbox only', async () => {
    smtp = await new TestSmtp().start();
    world = await communicationsWorld({ communications: mailOptions(smtp) });
    const w = world;
    const browser = w.browser(w.users.applicantA1);
    await browser.get('/account/notifications');
    const saved = await browser.post('/account/notifications', { email: 'message', lang: 'en' });
    expect(saved.statusCode).toBe(303);
    const { id, version } = w.applicationUnderReview();
    sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Протокол.' }] }, version);
    postMessage(w.app.engine, w.users.reviewer, id, { text: 'Жду.' });
    const states = w.db.$client.prepare<[number, number], { kind: string; mailState: string }>('SELECT kind, mail_state AS mailState FROM notifications WHERE user_id = ? AND application_id = ? ORDER BY id').all(w.users.applicantA1.id, id);
    expect(states).toEqual([{ kind: 'returned', mailState: 'none' }, { kind: 'message', mailState: 'pending' }]);
    await until(() => pendingMail(w) === 0);
    // In English, the language chosen: only the kind asked for by e-mail.
    expect(smtp.to(w.users.applicantA1.email).filter((m) => m.subject.includes(`No. ${numberOf(w, id)}`) || m.subject.includes(`№ ${numberOf(w, id)}`)).map((m) => m.subject)).toEqual([`ISU-IB: New message on application No. ${numberOf(w, id)}`]);
  });
});

describe('deadlines and reminders', () => {
  it('remind before the deadline and tell the coordinators after it, each once however often the scheduler runs', async () => {
    world = await communicationsWorld();
    const w = world;
    const { id, version } = w.applicationUnderReview();
    const returned = sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'return-for-revision', { remarks: [{ field: 'general', text: 'Протокол.' }] }, version);
    const at = Date.parse(returned.event.at);
    const day = 24 * 60 * 60 * 1000;
    const kinds = () => w.db.$client.prepare<[number], { kind: string; userId: number }>("SELECT kind, user_id AS userId FROM notifications WHERE application_id = ? AND kind LIKE 'answer-%' ORDER BY id").all(id);
    expect(runReminders(w.db, inboxOnly, new Date(at + 5 * day))).toBe(0);
    expect(runReminders(w.db, inboxOnly, new Date(at + 12.5 * day))).toBe(2);
    expect(runReminders(w.db, inboxOnly, new Date(at + 13 * day))).toBe(0);
    expect(runReminders(w.db, inboxOnly, new Date(at + 15 * day))).toBe(1);
    expect(runReminders(w.db, inboxOnly, new Date(at + 16 * day))).toBe(0);
    expect(kinds()).toEqual([
      { kind: 'answer-due', userId: w.users.applicantA1.id },
      { kind: 'answer-due', userId: w.users.applicantA2.id },
      { kind: 'answer-overdue', userId: w.users.coordinator.id },
    ]);
    const page = await w.app.inject({ method: 'GET', url: `/applications/${id}`, headers: { cookie: w.cookie(w.users.applicantA1) } });
    expect(page.body).toContain('Срок доработки');
    expect(page.body).toMatch(/осталось 14 дн\./);
  });

  it('the queue shows the time left on each review, and an admin sets the programme’s deadlines', async () => {
    world = await communicationsWorld();
    const w = world;
    w.applicationUnderReview();
    const queue = await w.app.inject({ method: 'GET', url: '/queue', headers: { cookie: w.cookie(w.users.reviewer) } });
    expect(queue.body).toMatch(/class="deadline[^"]*"[^>]*>\s*осталось 10 дн\./);
    const admin = w.browser(w.users.admin);
    await admin.get(`/programmes/${w.programme.programmeId}/deadlines`);
    const before = w.db.$client.prepare('SELECT count(*) AS n FROM programme_deadlines').get();
    const bad = await admin.post(`/programmes/${w.programme.programmeId}/deadlines`, { reviewDays: '0', answerDays: '5', remindDays: '7' });
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toContain('d-reviewDays-error');
    expect(w.db.$client.prepare('SELECT count(*) AS n FROM programme_deadlines').get()).toEqual(before);
    expect((await admin.post(`/programmes/${w.programme.programmeId}/deadlines`, { reviewDays: '5', answerDays: '7', remindDays: '1' })).statusCode).toBe(303);
    const after = await w.app.inject({ method: 'GET', url: '/queue', headers: { cookie: w.cookie(w.users.reviewer) } });
    expect(after.body).toMatch(/осталось 5 дн\./);
  });
});

describe('informing the participants (stage 7)', () => {
  it('one action sends every applicant their result with the protocol; the task is ticked from the delivery record', async () => {
    smtp = await new TestSmtp().start();
    world = await communicationsWorld({ communications: mailOptions(smtp) });
    const w = world;
    const { id, version } = w.applicationUnderReview();
    sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'accept', {}, version);
    w.programme.complete(5);
    w.programme.complete(6);
    w.programme.send(7, 'start');
    for (const member of [w.users.commission]) sendApplicationEvent(w.app.engine, member, id, 'score', { significance: 4 }, w.db.$client.prepare<[number], { version: number }>('SELECT version FROM applications WHERE id = ?').get(id)!.version);
    w.db.$client.prepare('UPDATE commission_settings SET quorum = 1 WHERE programme_id = ?').run(w.programme.programmeId);
    // Entered in the settings log, as any change of a programme's settings is: verify re-derives the table from it.
    recordSetting(w.db.$client, 'commission_settings', w.programme.programmeId, new Date(), null);
    recordDecision(w.app.engine, w.users.commission, w.programme.programmeId, { membersPresent: [w.users.commission.id] });
    await until(() => pendingMail(w) === 0);
    const before = smtp.received.length;
    const coordinator = { authorization: `Bearer ${w.bearer(w.users.coordinator)}` };
    const refusedByRole = await w.app.inject({ method: 'POST', url: `/api/programmes/${w.programme.programmeId}/informing`, headers: { authorization: `Bearer ${w.bearer(w.users.reviewer)}` } });
    expect(refusedByRole.statusCode).toBe(403);
    const sent = await w.app.inject({ method: 'POST', url: `/api/programmes/${w.programme.programmeId}/informing`, headers: coordinator });
    expect(sent.statusCode, sent.body).toBe(201);
    expect(sent.json().notifications).toBe(2);
    const again = await w.app.inject({ method: 'POST', url: `/api/programmes/${w.programme.programmeId}/informing`, headers: coordinator });
    expect(again.statusCode).toBe(422);
    await until(() => pendingMail(w) === 0);
    const results = smtp.received.slice(before);
    expect(results.map((m) => m.to).flat().sort()).toEqual([w.users.applicantA1.email, w.users.applicantA2.email].sort());
    for (const mail of results) {
      expect(mail.text).toContain(`https://isu.example.org/programmes/${w.programme.programmeId}/protocol`);
      expect(mail.text).toMatch(/победитель конкурса, субсидия 1\u00a0200\u00a0000,00 ₽/);
    }
    await until(() => {
      const stage = w.db.$client.prepare<[number], { snapshot: string }>("SELECT s.snapshot FROM stages g JOIN streams s ON s.id = g.stream_id WHERE g.programme_id = ? AND g.no = 7").get(w.programme.programmeId)!;
      return (JSON.parse(stage.snapshot) as { context: { tasks: { key: string; done: boolean }[] } }).context.tasks.some((t) => t.key === 'informing' && t.done);
    }, 10_000, 'the informing task to be ticked');
    const event = w.db.$client.prepare<[], { facts: string; actor: string }>("SELECT facts, actor FROM events WHERE type = 'complete-task' AND json_extract(payload, '$.task') = 'informing'").get()!;
    expect(JSON.parse(event.facts).informing).toMatchObject({ total: 2, emailed: 2, failed: 0, pending: 0 });
    expect(JSON.parse(event.actor).id).toBe(w.users.coordinator.id);
    const page = await w.app.inject({ method: 'GET', url: `/programmes/${w.programme.programmeId}/stages/7`, headers: { cookie: w.cookie(w.users.coordinator) } });
    expect(page.body).toContain('id="informing-recorded"');
    expect(page.body).toContain(w.users.applicantA1.email);
    expect(page.body).toContain('Отправлено');
    expect(verifyLedger(w.db, w.app.engine.registry).ok).toBe(true);
  });

  it('the informing task cannot be ticked by hand before the results were delivered', async () => {
    world = await communicationsWorld();
    const w = world;
    w.programme.complete(5);
    w.programme.complete(6);
    w.programme.send(7, 'start');
    expect(() => w.programme.send(7, 'complete-task', { task: 'informing' })).toThrow(/nobody-informed/);
  });
});

describe('addresses', () => {
  it('the admin sets a user’s e-mail (a bad one is refused beside the field), and POST /api/session returns it with the user', async () => {
    world = await communicationsWorld();
    const w = world;
    const admin = w.browser(w.users.admin);
    await admin.get('/admin/users/new');
    const users = () => w.db.$client.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get()!.n;
    const before = users();
    const bad = await admin.post('/admin/users', { login: 'ivanova', name: 'Иванова', role: 'reviewer', email: 'ivanova@', password: PASSWORD, confirmation: PASSWORD });
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toContain('id="u-email-error"');
    expect(users()).toBe(before);
    const created = await admin.post('/admin/users', { login: 'ivanova', name: 'Иванова', role: 'reviewer', email: 'ivanova@example.org', password: PASSWORD, confirmation: PASSWORD });
    expect(created.statusCode, created.body.slice(0, 300)).toBe(303);
    const session = await w.app.inject({ method: 'POST', url: '/api/session', payload: { login: 'ivanova', password: PASSWORD } });
    expect(session.json().user).toMatchObject({ login: 'ivanova', role: 'reviewer', email: 'ivanova@example.org' });
    // The address never travels inside an event's actor.
    const { id, version } = w.applicationUnderReview();
    sendApplicationEvent(w.app.engine, w.users.reviewer, id, 'accept', {}, version);
    expect(w.db.$client.prepare<[], { n: number }>("SELECT count(*) AS n FROM events WHERE actor LIKE '%@%'").get()!.n).toBe(0);
  });
});
