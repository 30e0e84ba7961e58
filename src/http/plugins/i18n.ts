import fp from 'fastify-plugin';
import { isLang, translator, type Lang, type Translate } from '../../i18n/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    lang: Lang;
    t: Translate;
  }
}

export const LANG_COOKIE = 'lang';

/** Russian by default; English when the user chose it (a cookie) or asks for it (`?lang=en`). */
export const i18nPlugin = fp(async (app) => {
  app.decorateRequest('lang', 'ru');
  app.decorateRequest('t', null as unknown as Translate);
  app.addHook('onRequest', async (request) => {
    const fromQuery = (request.query as Record<string, unknown> | undefined)?.lang;
    const fromCookie = request.cookies[LANG_COOKIE];
    request.lang = isLang(fromQuery) ? fromQuery : isLang(fromCookie) ? fromCookie : 'ru';
    request.t = translator(request.lang);
  });
});
