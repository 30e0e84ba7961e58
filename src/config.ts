import { isIP } from 'node:net';

/**
 * The configuration of a running instance, read once from the environment. A value that cannot be
 * meant is refused with a `ConfigError` that says which variable and what it takes, so that the
 * server stops at start instead of running with a guess.
 */
export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function databasePath(env: Env = process.env): string {
  return env.DATABASE_PATH ?? 'data/isu-ib.sqlite';
}

export function port(env: Env = process.env): number {
  const value = Number(env.PORT ?? 3000);
  return Number.isInteger(value) && value > 0 && value < 65536 ? value : 3000;
}

/** The address to listen on: this machine only unless told otherwise (`HOST=0.0.0.0` for every interface). */
export function host(env: Env = process.env): string {
  const value = env.HOST?.trim();
  if (!value) return '127.0.0.1';
  if (value !== 'localhost' && isIP(value) === 0) throw new ConfigError(`HOST=${value} is not an address to listen on: use an IP address such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`);
  return value;
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

/** Requests a minute per client address; 0 turns the limit off (load tests, integrations). The login limit stays. */
export function rateLimitPerMinute(env: Env = process.env): number {
  const value = env.RATE_LIMIT_PER_MINUTE?.trim();
  if (value === undefined || value === '') return DEFAULT_RATE_LIMIT_PER_MINUTE;
  if (!/^\d{1,9}$/.test(value)) throw new ConfigError(`RATE_LIMIT_PER_MINUTE=${value} is not a number of requests: use a whole number (${DEFAULT_RATE_LIMIT_PER_MINUTE} by default, 0 turns the limit off)`);
  return Number(value);
}

/** proxy-addr's names for address ranges (fastify passes the list to it). */
const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (namedRanges.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  // A prefix length, or (IPv4) a netmask as proxy-addr also takes.
  if (/^\d{1,3}$/.test(prefix)) return Number(prefix) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(prefix) === 4;
}

/**
 * Which X-Forwarded-For entries to believe: a number of proxy hops in front of the server, or the
 * proxies' addresses and ranges (`10.0.0.1, 10.1.0.0/16, loopback`). Never every entry: a client
 * could then name any address it likes and walk past the rate limits. `true`, as earlier versions
 * took it, means the one reverse proxy in front: 1 hop. Off by default.
 */
export function trustProxy(env: Env = process.env): number | string[] | false {
  const value = env.TRUST_PROXY?.trim();
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') return 1;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const wrong = entries.filter((entry) => !isAddressOrRange(entry));
  if (entries.length === 0 || wrong.length > 0) {
    throw new ConfigError(
      `TRUST_PROXY=${value}: ${wrong.length > 0 ? `${wrong.join(', ')} is not an address or a range` : 'names no proxy'}; use the number of proxies in front of the server (1 for one reverse proxy) or their addresses and ranges, comma-separated (10.0.0.1, 10.1.0.0/16, loopback)`,
    );
  }
  return entries;
}

/** What the server is started with, read and checked together so that every mistake shows at once. */
export interface ServerConfig {
  databasePath: string;
  port: number;
  host: string;
  rateLimitPerMinute: number;
  trustProxy: number | string[] | false;
  secureCookies: boolean;
  seedDemo: boolean;
}

export function serverConfig(env: Env = process.env): ServerConfig {
  const errors: string[] = [];
  const read = <T>(get: () => T, fallback: T): T => {
    try {
      return get();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error.message);
      return fallback;
    }
  };
  const config: ServerConfig = {
    databasePath: databasePath(env),
    port: port(env),
    host: read(() => host(env), '127.0.0.1'),
    rateLimitPerMinute: read(() => rateLimitPerMinute(env), DEFAULT_RATE_LIMIT_PER_MINUTE),
    trustProxy: read(() => trustProxy(env), false),
    secureCookies: env.SECURE_COOKIES === 'true',
    seedDemo: env.SEED_DEMO !== 'false',
  };
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return config;
}

/** The site's address as people reach it: the links in e-mails (issue 12). */
export function publicUrl(env: Env = process.env): string {
  const value = env.PUBLIC_URL?.trim();
  return value ? value.replace(/\/+$/, '') : `http://localhost:${port(env)}`;
}

/** E-mail is on when SMTP_URL is set (issue 12); MAIL_FROM is the sender, by default one at the public URL's host. */
export function mailSettings(env: Env = process.env): { smtpUrl: string; from: string } | null {
  const smtpUrl = env.SMTP_URL?.trim();
  if (!smtpUrl) return null;
  let host = 'localhost';
  try {
    host = new URL(publicUrl(env)).hostname || host;
  } catch {
    // a PUBLIC_URL that is no URL keeps localhost in the sender; the links show it
  }
  return { smtpUrl, from: env.MAIL_FROM?.trim() || `ISU-IB <no-reply@${host}>` };
}
