import { describe, expect, it } from 'vitest';
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblems } from '../../src/accounts/password-policy.ts';
import { LoginThrottle } from '../../src/http/routes/session.ts';

describe('the password policy (ASVS 2.1)', () => {
  it('takes long passwords of any characters, spaces and Cyrillic included, without composition rules', () => {
    for (const password of ['correct horse battery', 'всё течёт всё меняется', 'aaaaaaaaaaab-c', '12 monkeys in a row']) {
      expect(passwordProblems(password, 'someone'), password).toEqual([]);
    }
  });

  it(`refuses fewer than ${PASSWORD_MIN} or more than ${PASSWORD_MAX} characters, counted as a person counts them`, () => {
    expect(passwordProblems('short')).toEqual(['too-short']);
    expect(passwordProblems('😀'.repeat(PASSWORD_MIN - 1))).toContain('too-short');
    expect(passwordProblems('😀😁🙂'.repeat(PASSWORD_MIN / 3))).toEqual([]);
    expect(passwordProblems('ab'.repeat(PASSWORD_MAX))).toContain('too-long');
  });

  it('refuses the commonest passwords, in either keyboard layout, and one or two repeated characters', () => {
    for (const password of ['123456789012', 'qwerty123456', 'Password1234', 'йцукенгшщзхъ', 'aaaaaaaaaaaaaa', 'abababababab']) {
      expect(passwordProblems(password), password).toContain('too-common');
    }
  });

  it('refuses a password that contains the login', () => {
    expect(passwordProblems('my name is reviewer1 ok', 'Reviewer1')).toEqual(['contains-login']);
  });
});

describe('the login throttle', () => {
  it('doubles the wait after each failure for one key, up to five seconds, forgets after fifteen minutes and on success', () => {
    const throttle = new LoginThrottle();
    const now = 1_000_000;
    expect(throttle.delayMs('a|ip', now)).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      throttle.fail('a|ip', now);
      waits.push(throttle.delayMs('a|ip', now));
    }
    expect(waits).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(throttle.delayMs('b|ip', now)).toBe(0);
    expect(throttle.delayMs('a|ip', now + 15 * 60_000 + 1)).toBe(0);
    throttle.succeed('a|ip');
    expect(throttle.delayMs('a|ip', now)).toBe(0);
  });
});
