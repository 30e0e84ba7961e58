import { describe, expect, it } from 'vitest';
import { SignInLockout } from '../../src/accounts/sign-in-lockout.ts';

/** The per-account limit on failed sign-ins (issue 17), on a clock the test gives. */
const MINUTE = 60_000;

describe('SignInLockout', () => {
  it('locks at the tenth failure within 15 minutes, whatever the address and the letter case, for 15 minutes', () => {
    const lockout = new SignInLockout();
    const t0 = 1_000_000;
    for (let i = 0; i < 9; i++) expect(lockout.fail(i % 2 ? 'Reviewer1' : 'reviewer1', `10.0.0.${i}`, t0 + i * MINUTE)).toBe('counted');
    expect(lockout.isLocked('reviewer1', t0 + 9 * MINUTE)).toBe(false);
    expect(lockout.fail('reviewer1 ', '10.0.0.9', t0 + 9 * MINUTE)).toBe('locked-now');
    expect(lockout.isLocked('REVIEWER1', t0 + 9 * MINUTE)).toBe(true);
    expect(lockout.locked(t0 + 9 * MINUTE)).toEqual([{ login: 'reviewer1', lockedAt: t0 + 9 * MINUTE, until: t0 + 24 * MINUTE, failures: 10, addresses: Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`) }]);
    // Attempts while locked neither count nor extend it.
    expect(lockout.fail('reviewer1', '10.0.0.99', t0 + 20 * MINUTE)).toBe('already-locked');
    expect(lockout.isLocked('reviewer1', t0 + 24 * MINUTE - 1)).toBe(true);
    expect(lockout.isLocked('reviewer1', t0 + 24 * MINUTE)).toBe(false);
    expect(lockout.locked(t0 + 24 * MINUTE)).toEqual([]);
    // After the lock, a failure starts over: the old ones left the window.
    expect(lockout.fail('reviewer1', '10.0.0.1', t0 + 25 * MINUTE)).toBe('counted');
  });

  it('forgets failures older than the window, and after a successful sign-in', () => {
    const lockout = new SignInLockout();
    for (let i = 0; i < 9; i++) lockout.fail('a', 'ip', i * MINUTE);
    // The first failure is 15 minutes old: nine in the window with this one.
    expect(lockout.fail('a', 'ip', 15 * MINUTE)).toBe('counted');
    expect(lockout.fail('a', 'ip', 15 * MINUTE + 1)).toBe('locked-now');
    const other = new SignInLockout();
    for (let i = 0; i < 9; i++) other.fail('b', 'ip', i);
    other.succeed('b');
    expect(other.fail('b', 'ip', 10)).toBe('counted');
    other.clear('b');
    expect(other.locked(10)).toEqual([]);
  });

  it('stays bounded under a flood of made-up logins without lifting a real lock', () => {
    const lockout = new SignInLockout(10, 15 * MINUTE, 15 * MINUTE, 100);
    for (let i = 0; i < 10; i++) lockout.fail('admin1', `10.0.0.${i}`, 0);
    for (let i = 0; i < 5_000; i++) lockout.fail(`made-up-${i}`, '203.0.113.1', 1_000 + i);
    expect(lockout.isLocked('admin1', 10_000)).toBe(true);
    expect(lockout.locked(10_000).map((l) => l.login)).toEqual(['admin1']);
  });
});
