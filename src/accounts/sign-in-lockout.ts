/**
 * Failed sign-ins per account, from whatever address (issue 17): the per-address limits alone let
 * a password be guessed from many addresses at once. After `maxFailures` failures within `windowMs`
 * the login is locked for `lockMs`: every attempt, even with the right password, gets the same
 * answer as a wrong one, so the lock tells a guesser nothing. Kept in memory, as the per-address
 * limits are: a restart unlocks; attempts while locked neither count nor extend the lock, so that
 * nobody can keep an account locked by more than one lock at a time. Pure over the clock it is given.
 */
export interface LockedAccount {
  login: string;
  lockedAt: number;
  until: number;
  failures: number;
  /** The addresses the failures came from, most recent last. */
  addresses: string[];
}

interface Entry {
  failures: { at: number; ip: string }[];
  lockedAt: number | null;
  until: number | null;
}

export type FailureOutcome = 'counted' | 'locked-now' | 'already-locked';

export class SignInLockout {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly maxFailures = 10,
    readonly windowMs = 15 * 60_000,
    readonly lockMs = 15 * 60_000,
    /** How many logins are remembered; the oldest are forgotten first. */
    private readonly capacity = 10_000,
  ) {}

  private key(login: string): string {
    return login.trim().toLowerCase();
  }

  isLocked(login: string, now = Date.now()): boolean {
    const entry = this.entries.get(this.key(login));
    return entry?.until != null && entry.until > now;
  }

  /** Records a failure; says whether this one locked the login. */
  fail(login: string, ip: string, now = Date.now()): FailureOutcome {
    const key = this.key(login);
    if (this.isLocked(key, now)) return 'already-locked';
    const entry = this.entries.get(key) ?? { failures: [], lockedAt: null, until: null };
    entry.failures = entry.failures.filter((failure) => now - failure.at < this.windowMs);
    entry.failures.push({ at: now, ip });
    entry.lockedAt = null;
    entry.until = null;
    // Most recent last: re-inserting moves the login to the end, so eviction takes the stalest.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict(now);
    if (entry.failures.length >= this.maxFailures) {
      entry.lockedAt = now;
      entry.until = now + this.lockMs;
      return 'locked-now';
    }
    return 'counted';
  }

  /** A successful sign-in (not while locked) forgets the failures before it. */
  succeed(login: string): void {
    this.entries.delete(this.key(login));
  }

  /** An admin set a new password: the lock and the failures go. */
  clear(login: string): void {
    this.entries.delete(this.key(login));
  }

  locked(now = Date.now()): LockedAccount[] {
    const list: LockedAccount[] = [];
    for (const [login, entry] of this.entries) {
      if (entry.until === null || entry.until <= now || entry.lockedAt === null) continue;
      list.push({ login, lockedAt: entry.lockedAt, until: entry.until, failures: entry.failures.length, addresses: [...new Set(entry.failures.map((f) => f.ip))] });
    }
    return list.sort((a, b) => a.until - b.until || a.login.localeCompare(b.login));
  }

  private evict(now: number): void {
    if (this.entries.size <= this.capacity) return;
    for (const [key, entry] of this.entries) {
      const stale = (entry.until === null || entry.until <= now) && entry.failures.every((f) => now - f.at >= this.windowMs);
      if (stale) this.entries.delete(key);
    }
    // Still full: the oldest go, locks last, so that a flood of made-up logins cannot lift a real lock.
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      if (entry.until === null || entry.until <= now) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(key);
    }
  }
}
