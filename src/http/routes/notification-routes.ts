import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLang, type Lang } from '../../i18n/index.ts';
import { ValidationError } from '../../engine/errors.ts';
import { emailPreferences, inbox, markRead, ownNotification, saveEmailPreferences, unreadCount, userProfile, type InboxItem } from '../../workflows/notifications/inbox.ts';
import { notificationKinds } from '../../workflows/notifications/rules.ts';
import { notificationText } from '../../workflows/notifications/texts.ts';
import { access } from '../authorization.ts';
import { bodyText } from '../forms.ts';
import { actorOf, formBody, type Notice } from '../page-kit.ts';
import { isHtmx, requireActor } from '../plugins/auth.ts';
import { idParam } from './params.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyErrors, errors, json } from '../api-schemas.ts';
import { markReadBody, markReadResponse, notificationsQuery, notificationsResponse } from '../communications-schemas.ts';

/** A notification as the inbox shows it and the API returns it: the words in the reader's language. */
function itemView(lang: Lang, item: InboxItem) {
  const { title, body } = notificationText(lang, item.kind, item.params, item.timeZone ?? undefined);
  return { ...item, title, body, unread: item.readAt === null, mailed: item.mail.sentAt !== null };
}

/** The ids a form posts (`ids` repeated, or one), as numbers; anything else is left out for the check to refuse. */
function formIds(body: Record<string, unknown>): unknown[] {
  const raw = body.ids;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((value) => (typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value));
}

/**
 * The inbox (issue 12): every signed-in user's notifications, unread first; the unread count in
 * the header, which an open page refreshes by itself; mark read, all read, and open the thing.
 * The user's own e-mail preferences. And the API: `GET /api/notifications` (`?unread=true`),
 * `POST /api/notifications/read` (`{ids}` or `{all: true}`).
 */
export async function notificationRoutes(app: FastifyInstance) {
  const now = () => app.engine.now();

  async function inboxPage(request: FastifyRequest, notice: Notice | null = null) {
    const actor = actorOf(request);
    const items = inbox(app.db, actor.id).map((item) => itemView(request.lang, item));
    return {
      title: request.t('inbox.title'),
      items,
      unread: items.filter((item) => item.unread).length,
      mailEnabled: app.communications.mail !== null,
      profile: userProfile(app.db, actor.id),
      notice,
    };
  }

  app.get('/notifications', { config: { access: access.signedIn } }, async (request, reply) => reply.page('pages/notifications.eta', await inboxPage(request)));

  // The header's count, for htmx: tells an open page (`notifications-changed`) when it is not the one it shows.
  app.get('/notifications/count', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const count = unreadCount(app.db, actor.id);
    const known = (request.query as Record<string, unknown> | undefined)?.known;
    if (typeof known === 'string' && known !== String(count)) void reply.header('HX-Trigger', 'notifications-changed');
    if (!isHtmx(request)) return reply.header('Cache-Control', 'no-store').send({ unread: count });
    return reply.page('partials/inbox-link.eta', { title: '', unread: count });
  });

  app.post('/notifications/read', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const body = formBody(request);
    const all = bodyText(body, 'all') === 'true';
    try {
      const changed = markRead(app.db, actor.id, all ? { all: true } : { ids: formIds(body) }, now());
      if (isHtmx(request)) return reply.page('pages/notifications.eta', await inboxPage(request, { tone: 'success', text: request.t('inbox.marked', { count: changed }) }));
      return reply.redirect('/notifications', 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return reply.page('pages/notifications.eta', await inboxPage(request, { tone: 'error', text: request.t('inbox.nothingChosen') }), 422);
    }
  });

  // Opening a notification reads it and goes to what it is about.
  app.post('/notifications/:id/open', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const notification = ownNotification(app.db, actor.id, idParam(request.params));
    markRead(app.db, actor.id, { ids: [notification.id] }, now());
    return reply.redirect(notification.link, 303);
  });

  app.get('/account/notifications', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const done = (request.query as Record<string, unknown> | undefined)?.done === 'saved';
    return reply.page('pages/account-notifications.eta', {
      title: request.t('inbox.preferencesTitle'),
      kinds: notificationKinds,
      preferences: emailPreferences(app.db, actor.id),
      profile: userProfile(app.db, actor.id),
      mailEnabled: app.communications.mail !== null,
      notice: done ? ({ tone: 'success', text: request.t('inbox.preferencesSaved') } satisfies Notice) : null,
    });
  });

  app.post('/account/notifications', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const body = formBody(request);
    const raw = body.email;
    const wanted = new Set((Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((value): value is string => typeof value === 'string'));
    const langText = bodyText(body, 'lang');
    const lang: Lang = isLang(langText) ? langText : 'ru';
    saveEmailPreferences(app.db, actor.id, wanted, lang);
    return reply.redirect('/account/notifications?done=saved', 303);
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['notifications'];

  api.get(
    '/api/notifications',
    {
      config: { access: access.signedIn },
      schema: { tags, summary: 'The caller’s notifications, unread first (`?unread=true`: those only), in the caller’s language', querystring: notificationsQuery, response: { 200: json('the inbox', notificationsResponse), ...errors(401, 400, 422) } },
    },
    async (request) => {
      const actor = requireActor(request);
      const unreadOnly = request.query.unread === 'true';
      const items = inbox(app.db, actor.id, { unreadOnly }).map((item) => {
        const view = itemView(request.lang, item);
        return { id: view.id, kind: view.kind, title: view.title, text: view.body, link: view.link, params: view.params, createdAt: view.createdAt, readAt: view.readAt, applicationId: view.applicationId, programmeId: view.programmeId, mail: view.mail };
      });
      return { unread: unreadCount(app.db, actor.id), notifications: items };
    },
  );

  api.post(
    '/api/notifications/read',
    {
      config: { access: access.signedIn },
      schema: { tags, summary: 'Mark notifications read: `{ids}` of one’s own, or `{all: true}`', body: markReadBody, response: { 200: json('how many were marked, and how many stay unread', markReadResponse), ...errors(401, ...bodyErrors) } },
    },
    async (request) => {
      const actor = requireActor(request);
      const body = request.body;
      const read = markRead(app.db, actor.id, body.all === true ? { all: true } : { ids: body.ids }, now());
      return { read, unread: unreadCount(app.db, actor.id) };
    },
  );
}
