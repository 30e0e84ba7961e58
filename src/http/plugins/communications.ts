import fp from 'fastify-plugin';
import { MailDelivery, type MailSettings } from '../../workflows/notifications/delivery.ts';
import type { OutboxOptions } from '../../workflows/notifications/outbox.ts';
import { ReminderScheduler } from '../../workflows/notifications/scheduler.ts';
import { completeInformingIfSettled } from '../../workflows/informing/rounds.ts';

/** How an app sends what it notifies (issue 12). */
export interface CommunicationsOptions {
  /** SMTP: e-mail is on. Without it notifications reach the inbox only. */
  mail?: MailSettings | null;
  /** The site's address for the links in e-mails; default http://localhost:3000. */
  publicUrl?: string;
  /** Runs the delivery worker and the reminders' scheduler while the app is up (the server does; tests choose). */
  background?: boolean;
  /** How often the scheduler looks for deadlines, in ms. */
  reminderIntervalMs?: number;
  /** How often an open page asks for the unread count, in seconds. */
  pollSeconds?: number;
}

export interface CommunicationSettings {
  mail: MailSettings | null;
  publicUrl: string;
  background: boolean;
  reminderIntervalMs: number;
  pollSeconds: number;
  outbox: OutboxOptions;
}

export function communicationSettings(options: CommunicationsOptions = {}): CommunicationSettings {
  const publicUrl = (options.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  let host = 'localhost';
  try {
    host = new URL(publicUrl).hostname || host;
  } catch {
    // a malformed PUBLIC_URL keeps localhost in the Message-IDs; the links show it
  }
  return {
    mail: options.mail ?? null,
    publicUrl,
    background: options.background ?? false,
    reminderIntervalMs: options.reminderIntervalMs ?? 60_000,
    pollSeconds: options.pollSeconds ?? 20,
    outbox: { mail: Boolean(options.mail), messageIdDomain: host },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    communications: CommunicationSettings & { delivery: MailDelivery | null; scheduler: ReminderScheduler | null };
  }
}

/**
 * The delivery worker and the reminders' scheduler live as long as the app: started when it is
 * ready (when `background`), stopped when it closes, after the message being sent has gone.
 */
export const communicationsPlugin = fp<CommunicationSettings>(async (app, settings) => {
  const delivery = settings.mail
    ? new MailDelivery(app.db, {
        mail: settings.mail,
        publicUrl: settings.publicUrl,
        now: () => app.engine.now(),
        log: app.log,
        // A settled result may be the last of the participants': the informing task is ticked from the record.
        afterSettled: (row) => {
          if (row.kind === 'result' && row.programmeId !== null) completeInformingIfSettled(app.engine, row.programmeId);
        },
      })
    : null;
  const scheduler = settings.background ? new ReminderScheduler(app.db, settings.outbox, { intervalMs: settings.reminderIntervalMs, now: () => app.engine.now(), log: app.log }) : null;
  app.decorate('communications', { ...settings, delivery, scheduler });
  app.addHook('onReady', async () => {
    if (!settings.background) return;
    delivery?.start();
    scheduler?.start();
  });
  app.addHook('onClose', async () => {
    scheduler?.stop();
    await delivery?.stop();
  });
});
