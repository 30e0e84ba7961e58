import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './free-port.ts';
import { smallWorld } from './small-world.ts';
import { canMountSmallDisk, smallDisk } from './small-disk.ts';

/**
 * `npm start` itself (issue 17, DESIGN §6): it listens on 127.0.0.1 unless HOST says otherwise,
 * clears what cut uploads left, answers /readyz, and refuses to start — with one line that says
 * why — on a configuration it cannot mean and on a database it cannot write.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});


/** The server's environment: ours, without any setting a test did not choose. */
function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['HOST', 'PORT', 'DATABASE_PATH', 'RATE_LIMIT_PER_MINUTE', 'TRUST_PROXY', 'SECURE_COOKIES', 'SEED_DEMO']) delete env[name];
  return { ...env, ...extra };
}

interface Started {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  stop: () => void;
}

function start(env: Record<string, string>): Started {
  const child = spawn(tsx, ['src/server.ts'], { cwd: root, env: environment(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const code = new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { code, stdout: () => stdout, stderr: () => stderr, stop: () => child.kill('SIGTERM') };
}

async function waitFor(what: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!what()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start', () => {
  it('listens on 127.0.0.1 by default, removes unfinished uploads, is ready, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isu-ib-start-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'documents', 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'documents', 'tmp', 'cut-by-a-crash'), Buffer.alloc(4096, 1));
    const port = await freePort();
    const server = start({ DATABASE_PATH: join(dir, 'isu-ib.sqlite'), PORT: String(port), SEED_DEMO: 'false' });
    await waitFor(() => server.stdout().includes('Server listening at'), 60_000);
    expect(server.stdout()).toContain(`Server listening at http://127.0.0.1:${port}`);
    expect(server.stdout()).toContain('removed 1 unfinished upload(s)');
    expect(existsSync(join(dir, 'documents', 'tmp', 'cut-by-a-crash'))).toBe(false);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true });
    const api = await fetch(`http://127.0.0.1:${port}/api/programmes`);
    expect(api.headers.get('cache-control')).toBe('no-store');
    server.stop();
    expect(await server.code).toBe(0);
  }, 90_000);

  it('refuses a configuration it cannot mean, naming every variable in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isu-ib-start-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = start({ DATABASE_PATH: join(dir, 'isu-ib.sqlite'), HOST: 'every interface', TRUST_PROXY: '*', RATE_LIMIT_PER_MINUTE: 'lots' });
    expect(await server.code).toBe(1);
    const lines = server.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^isu-ib does not start: HOST=every interface .*; RATE_LIMIT_PER_MINUTE=lots .*; TRUST_PROXY=\*: \* is not an address or a range/);
    // Nothing was made of a database it never opened.
    expect(existsSync(join(dir, 'isu-ib.sqlite'))).toBe(false);
  }, 60_000);
});

/**
 * A database the server's user cannot write: its file and folder made read-only for a user
 * without root's override, or a tmpfs remounted read-only for root; null when neither is possible.
 */
function readOnlyDatabase(): string | null {
  const isRoot = process.getuid?.() === 0;
  const disk = isRoot ? smallDisk(8 * 1024 * 1024) : null;
  if (isRoot && !disk) return null;
  const dir = disk?.path ?? mkdtempSync(join(tmpdir(), 'isu-ib-ro-'));
  const path = join(dir, 'isu-ib.sqlite');
  const world = smallWorld(path);
  world.draft('Ремонт дороги');
  world.db.$client.close();
  if (disk) {
    disk.readOnly();
    cleanups.push(() => disk.remove());
  } else {
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    cleanups.push(() => {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return path;
}

const canMakeReadOnly = process.platform === 'linux' && (process.getuid?.() !== 0 || canMountSmallDisk);

describe('npm start on a database it cannot write', () => {
  it.skipIf(!canMakeReadOnly)('refuses to start with one line that says so, instead of failing every login later', async () => {
    const path = readOnlyDatabase()!;
    const server = start({ DATABASE_PATH: path, PORT: String(await freePort()) });
    expect(await server.code).toBe(1);
    const lines = server.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^isu-ib does not start: the database ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be written \\(.+\\); make the file and its folder writable`));
    expect(server.stdout()).not.toContain('Server listening');
  }, 60_000);
});
