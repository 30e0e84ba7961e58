/**
 * Faults of the storage under the application (the disk, the database file), told apart from bugs:
 * a person can act on them (free space, make the file writable, replace a failing disk, wait),
 * and whatever was being saved when one happened was not saved. Read from the error's `code`:
 * better-sqlite3 gives SQLite's extended code (`SQLITE_IOERR_WRITE`), Node's fs the errno name.
 */
export type StorageFault = 'full' | 'read-only' | 'io' | 'busy';

export const storageFaults: readonly StorageFault[] = ['full', 'read-only', 'io', 'busy'];

const byErrno: Record<string, StorageFault> = {
  ENOSPC: 'full',
  EDQUOT: 'full',
  EROFS: 'read-only',
  // The file or its folder is not writable by the server's user.
  EACCES: 'read-only',
  EPERM: 'read-only',
  EIO: 'io',
};

export function storageFaultOf(error: unknown): StorageFault | null {
  const code = error !== null && typeof error === 'object' && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (typeof code !== 'string') return null;
  if (code in byErrno) return byErrno[code]!;
  if (code === 'SQLITE_FULL') return 'full';
  // SQLITE_READONLY and its extended codes (_DBMOVED, _CANTINIT, _DIRECTORY, …).
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) return 'read-only';
  if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_') || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN_')) return 'io';
  // Only after the connection's busy timeout ran out: another writer held the database all that time.
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_LOCKED_')) return 'busy';
  return null;
}

/** How the error handler answers each fault, and how long a client should wait before trying again. */
export const storageFaultRetryAfterSeconds: Record<StorageFault, number | null> = {
  full: null,
  'read-only': null,
  io: null,
  busy: 5,
};
