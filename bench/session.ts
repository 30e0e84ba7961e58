/** Signs a demo user in over real HTTP, as a browser does: the login page's CSRF token, then the form post. The session cookie. */
export async function sessionOf(base: string, login: string): Promise<string> {
  const cookiesOf = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const loginPage = await fetch(`${base}/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
  const signedIn = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookiesOf(loginPage).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${encodeURIComponent(csrf)}&login=${login}&password=demo`,
  });
  return cookiesOf(signedIn).find((c) => c.startsWith('sid='))!;
}
