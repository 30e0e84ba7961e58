import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs of its own, for the tests of a full or read-only disk (issue 17): only where this
 * process may mount one (root on Linux with the right to mount); elsewhere those tests are
 * reported as skipped, and the same faults are made inside SQLite instead.
 */
export interface SmallDisk {
  path: string;
  /** Remounts it read-only: for root too, unlike chmod. */
  readOnly(): void;
  remove(): void;
}

export function smallDisk(bytes: number): SmallDisk | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const path = mkdtempSync(join(tmpdir(), 'isu-ib-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', path], { stdio: 'ignore' });
  } catch {
    rmSync(path, { recursive: true, force: true });
    return null;
  }
  return {
    path,
    readOnly: () => execFileSync('mount', ['-o', 'remount,ro', path]),
    remove: () => {
      execFileSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Whether `smallDisk` works here: tried once with a tiny one. */
export const canMountSmallDisk: boolean = (() => {
  const disk = smallDisk(64 * 1024);
  disk?.remove();
  return disk !== null;
})();
