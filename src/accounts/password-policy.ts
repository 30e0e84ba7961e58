import { z } from 'zod';

/**
 * What a new password must be (OWASP ASVS 2.1): at least 12 characters, at most 128, any
 * characters (spaces and Cyrillic included, no composition rules), not one of the passwords every
 * guesser tries first, and not the login itself. An installation may be offline, so no breach
 * service is asked; the list below holds the commonest passwords of both keyboard layouts.
 */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

const common = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456123456',
  '111111111111',
  '000000000000',
  '123123123123',
  'password1234',
  'password12345',
  'passwordpassword',
  'qwertyuiop12',
  'qwertyuiop123',
  'qwerty123456',
  'qwertyqwerty',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'asdfghjkl123',
  'zxcvbnm12345',
  'iloveyou1234',
  'administrator',
  'admin1234567',
  'adminadmin12',
  'letmein12345',
  'welcome12345',
  'changeme1234',
  'йцукенгшщзхъ',
  'пароль123456',
  'парольпароль',
  'фывапролджэ1',
  'qazwsxedcrfv',
]);

export type PasswordProblem = 'too-short' | 'too-long' | 'too-common' | 'contains-login';

/** The problems of a proposed password, empty when it is acceptable. */
export function passwordProblems(password: string, login = ''): PasswordProblem[] {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  const problems: PasswordProblem[] = [];
  if (length < PASSWORD_MIN) problems.push('too-short');
  if (length > PASSWORD_MAX) problems.push('too-long');
  const lower = normalized.toLocaleLowerCase('ru');
  if (common.has(lower) || new Set(lower).size <= 2) problems.push('too-common');
  if (login.length >= 3 && lower.includes(login.toLocaleLowerCase('ru'))) problems.push('contains-login');
  return problems;
}

/** The policy as a zod schema, for the places that parse a password with the rest of a form. */
export const newPasswordSchema = z.string().superRefine((password, context) => {
  for (const code of passwordProblems(password)) context.addIssue({ code: 'custom', message: code, params: { code } });
});
