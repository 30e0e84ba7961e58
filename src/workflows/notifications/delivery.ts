import nodemailer, { type Transporter } from 'nodemailer';
import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { isLang, type Lang } from '../../i18n/index.ts';
import { notificationMail } from './texts.ts';

/**
 * The delivery worker (issue 12): sends the outbox by SMTP. Each due row is claimed first (a
 * compare-and-swap on its state), sent with the Message-ID fixed when it was written, and marked
 * sent; a failure waits longer each time (exponential backoff) until it is given up as failed and
 * shown to the admin. A claim older than the lease is taken again: a process killed mid-send
 * sends that one again, with the same Message-ID, so the receiving side can tell.
 */

export interface MailSettings {
  /** smtp://user:pass@host:port or smtps://…; nodemailer's connection URL. */
  smtpUrl: string;
  /** The From address. */
  from: string;
  /** How often the outbox is looked at, in ms. */
  pollMs?: number;
  /** The first wait after a failure, in ms; it doubles with each attempt up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** After this many attempts a message is failed for good. */
  maxAttempts?: number;
  /** A claim older than this is another process's that died. */
  leaseMs?: number;
}

export interface DeliveryOptions {
  mail: MailSettings;
  /** The site's address, for the links in the e-mails. */
  publicUrl: string;
  now?: () => Date;
  /** Called after each message settles (sent or failed), inside no transaction. */
  afterSettled?: (row: { id: number; kind: string; programmeId: number | null }) => void;
  log?: { warn(object: unknown, message: string): void; info(object: unknown, message: string): void };
  /** For tests: another transport than nodemailer's SMTP. */
  transport?: Transporter;
}

interface OutboxRow {
  id: number;
  userId: number;
  kind: string;
  params: string;
  link: string;
  mailTo: string;
  messageId: string;
  attempts: number;
  programmeId: number | null;
  lang: string;
  timeZone: string | null;
}

const deliveryStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  const columns = `n.id, n.user_id AS userId, n.kind, n.params, n.link, n.mail_to AS mailTo, n.message_id AS messageId, n.attempts, n.programme_id AS programmeId,
    u.lang, p.time_zone AS timeZone FROM notifications n JOIN users u ON u.id = n.user_id LEFT JOIN programmes p ON p.id = n.programme_id`;
  return {
    due: sqlite.prepare<{ now: string; limit: number }, OutboxRow>(`SELECT ${columns} WHERE n.mail_state = 'pending' AND n.next_attempt_at <= @now ORDER BY n.next_attempt_at, n.id LIMIT @limit`),
    stale: sqlite.prepare<{ before: string; limit: number }, OutboxRow>(`SELECT ${columns} WHERE n.mail_state = 'sending' AND n.claimed_at <= @before ORDER BY n.id LIMIT @limit`),
    claim: sqlite.prepare<{ id: number; now: string; before: string }>(
      "UPDATE notifications SET mail_state = 'sending', claimed_at = @now WHERE id = @id AND (mail_state = 'pending' OR (mail_state = 'sending' AND claimed_at <= @before))",
    ),
    sent: sqlite.prepare<{ id: number; now: string }>("UPDATE notifications SET mail_state = 'sent', sent_at = @now, attempts = attempts + 1, last_error = NULL, claimed_at = NULL WHERE id = @id"),
    retry: sqlite.prepare<{ id: number; next: string; error: string }>(
      "UPDATE notifications SET mail_state = 'pending', next_attempt_at = @next, attempts = attempts + 1, last_error = @error, claimed_at = NULL WHERE id = @id",
    ),
    /** At start: a claim left by a process that died is pending again, and whatever waits for a retry is due now. */
    resume: sqlite.prepare<{ now: string }>(
      "UPDATE notifications SET mail_state = 'pending', next_attempt_at = @now, claimed_at = NULL WHERE mail_state = 'sending' OR (mail_state = 'pending' AND next_attempt_at > @now)",
    ),
    failed: sqlite.prepare<{ id: number; error: string }>("UPDATE notifications SET mail_state = 'failed', attempts = attempts + 1, last_error = @error, claimed_at = NULL WHERE id = @id"),
  };
});

/** An SMTP answer in the 5xx range is final: the mailbox does not exist, the address is refused. */
function permanent(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

export class MailDelivery {
  private readonly transport: Transporter;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly options: DeliveryOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.transport =
      options.transport ??
      nodemailer.createTransport({ url: options.mail.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never);
  }

  private get settings() {
    const mail = this.options.mail;
    return { pollMs: mail.pollMs ?? 2_000, backoffMs: mail.backoffMs ?? 30_000, maxBackoffMs: mail.maxBackoffMs ?? 6 * 60 * 60_000, maxAttempts: mail.maxAttempts ?? 10, leaseMs: mail.leaseMs ?? 5 * 60_000 };
  }

  /**
   * Starts looking at the outbox every `pollMs`. One server per database: what a previous process
   * was sending when it died is sent again (with the same Message-ID), and a restart retries at once.
   */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    deliveryStatements(this.db).resume.run({ now: this.now().toISOString() });
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce().finally(() => this.schedule(this.settings.pollMs));
    }, delay);
    this.timer.unref?.();
  }

  /** Stops, and waits for the message being sent, so that a closed app leaves no claim behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => 0);
    this.transport.close();
  }

  /** Sends what is due now; returns how many were sent. One pass at a time. */
  runOnce(): Promise<number> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const s = deliveryStatements(this.db);
    const { leaseMs } = this.settings;
    let sent = 0;
    for (;;) {
      const now = this.now();
      const before = new Date(now.getTime() - leaseMs).toISOString();
      const rows = [...s.stale.all({ before, limit: 20 }), ...s.due.all({ now: now.toISOString(), limit: 20 })];
      if (rows.length === 0) return sent;
      let progressed = false;
      for (const row of rows) {
        if (this.stopped && sent > 0) return sent;
        if (s.claim.run({ id: row.id, now: this.now().toISOString(), before }).changes !== 1) continue;
        progressed = true;
        if (await this.send(row)) sent += 1;
      }
      if (!progressed) return sent;
    }
  }

  private async send(row: OutboxRow): Promise<boolean> {
    const s = deliveryStatements(this.db);
    const lang: Lang = isLang(row.lang) ? row.lang : 'ru';
    const url = new URL(row.link, this.options.publicUrl).toString();
    const mail = notificationMail(lang, row.kind, JSON.parse(row.params) as Record<string, string | number>, url, row.timeZone ?? undefined);
    try {
      await this.transport.sendMail({
        from: this.options.mail.from,
        to: row.mailTo,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: row.messageId,
        headers: { 'X-ISU-Notification': String(row.id), 'Auto-Submitted': 'auto-generated' },
      });
      s.sent.run({ id: row.id, now: this.now().toISOString() });
      this.options.log?.info({ notification: row.id, to: row.mailTo }, 'e-mail sent');
      this.settled(row);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500);
      const { backoffMs, maxBackoffMs, maxAttempts } = this.settings;
      const attempts = row.attempts + 1;
      if (permanent(error) || attempts >= maxAttempts) {
        s.failed.run({ id: row.id, error: message });
        this.options.log?.warn({ notification: row.id, to: row.mailTo, attempts, error: message }, 'e-mail failed for good');
        this.settled(row);
      } else {
        const wait = Math.min(maxBackoffMs, backoffMs * 2 ** (attempts - 1));
        s.retry.run({ id: row.id, next: new Date(this.now().getTime() + wait).toISOString(), error: message });
        this.options.log?.warn({ notification: row.id, to: row.mailTo, attempts, retryInMs: wait, error: message }, 'e-mail not sent; will retry');
      }
      return false;
    }
  }

  private settled(row: OutboxRow): void {
    try {
      this.options.afterSettled?.({ id: row.id, kind: row.kind, programmeId: row.programmeId });
    } catch (error) {
      this.options.log?.warn({ notification: row.id, error: error instanceof Error ? error.message : String(error) }, 'after-delivery step failed');
    }
  }
}
