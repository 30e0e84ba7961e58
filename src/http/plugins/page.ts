import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import { navigation, permissionsOf } from '../authorization.ts';
import { viewHelpers } from '../view-helpers.ts';
import { csrfUserInfo, isHtmx } from './auth.ts';
import { unreadCount } from '../../workflows/notifications/inbox.ts';
import { statement } from '../../db/statements.ts';
import { applicationLabel } from '../../workflows/application/registration.ts';

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page: the whole document, or only its main part for htmx (DESIGN §5). */
    page(template: string, data: Record<string, unknown>, status?: number): Promise<FastifyReply>;
  }
}

/**
 * Pages: every template gets the helpers, the translator, the actor, the CSRF token, the main
 * navigation and what the actor's role may use (`may`, from the access table), so that no
 * template decides by role itself.
 */
export const pagePlugin = fp(async (app) => {
  app.decorateReply('page', async function page(this: FastifyReply, template: string, data: Record<string, unknown>, status = 200) {
    const request = this.request;
    const fragment = isHtmx(request) && request.headers['hx-boosted'] !== 'true';
    const csrfToken = this.generateCsrf({ userInfo: csrfUserInfo(request) });
    const role = request.actor?.role ?? null;
    // An application is named by its registration number wherever a page names it (issue 13), read once per page.
    const labels = new Map<number, string>();
    const appNo = (id: number): string => {
      let label = labels.get(id);
      if (label === undefined) {
        const registrationNo = statement<[number], { no: string | null }>(request.server.db, 'SELECT registration_no AS no FROM applications WHERE id = ?').get(id)?.no ?? null;
        label = applicationLabel({ id, registrationNo });
        labels.set(id, label);
      }
      return label;
    };
    const locals = {
      ...viewHelpers(request.lang),
      t: request.t,
      lang: request.lang,
      actor: request.actor,
      may: permissionsOf(role),
      nav: role ? navigation(role, request.url) : [],
      csrfToken,
      appNo,
      url: request.url,
      fragment,
      // The header's unread count, refreshed by the page itself every few seconds (issue 12).
      unread: request.actor ? unreadCount(request.server.db, request.actor.id) : 0,
      pollSeconds: request.server.communications?.pollSeconds ?? 20,
      ...data,
    };
    let html = await this.viewAsync(template, locals, fragment ? {} : { layout: 'layout.eta' });
    // An htmx form whose answer is another page than the part it replaces (a refused submit answers
    // with the edit form) would swap in nothing and leave the page blank: the answer replaces the
    // main content instead, errors and all (issue 16).
    const target = request.headers['hx-target'];
    if (fragment && typeof target === 'string' && target !== '' && !html.includes(`id="${target}"`)) {
      html = `<div id="swapped-page">${html}</div>`;
      void this.header('HX-Retarget', '#main').header('HX-Reswap', 'innerHTML show:top').header('HX-Reselect', '#swapped-page');
    }
    return this.code(status).header('Vary', 'HX-Request').header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
  });
});
