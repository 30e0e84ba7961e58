import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_RATE_LIMIT_PER_MINUTE, host, rateLimitPerMinute, serverConfig, trustProxy } from '../../src/config.ts';

/** The server's configuration from the environment (DESIGN §6, issue 17): defaults, and refusals that say what a variable takes. */
describe('HOST', () => {
  it('is this machine only unless told otherwise', () => {
    expect(host({})).toBe('127.0.0.1');
    expect(host({ HOST: '' })).toBe('127.0.0.1');
    expect(host({ HOST: '0.0.0.0' })).toBe('0.0.0.0');
    expect(host({ HOST: '::' })).toBe('::');
    expect(host({ HOST: 'localhost' })).toBe('localhost');
    expect(() => host({ HOST: 'every interface' })).toThrow(/HOST=every interface is not an address/);
  });
});

describe('RATE_LIMIT_PER_MINUTE', () => {
  it('is 600 by default, takes a whole number, and 0 turns the limit off', () => {
    expect(rateLimitPerMinute({})).toBe(DEFAULT_RATE_LIMIT_PER_MINUTE);
    expect(DEFAULT_RATE_LIMIT_PER_MINUTE).toBe(600);
    expect(rateLimitPerMinute({ RATE_LIMIT_PER_MINUTE: '0' })).toBe(0);
    expect(rateLimitPerMinute({ RATE_LIMIT_PER_MINUTE: ' 1200 ' })).toBe(1200);
    for (const wrong of ['-1', '1.5', 'lots', '1e3']) expect(() => rateLimitPerMinute({ RATE_LIMIT_PER_MINUTE: wrong }), wrong).toThrow(ConfigError);
  });
});

describe('TRUST_PROXY', () => {
  it('is off by default, a number of hops, or a list of proxy addresses and ranges', () => {
    for (const off of [undefined, '', 'false', '0']) expect(trustProxy({ TRUST_PROXY: off })).toBe(false);
    expect(trustProxy({ TRUST_PROXY: '1' })).toBe(1);
    expect(trustProxy({ TRUST_PROXY: '2' })).toBe(2);
    expect(trustProxy({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16 ,loopback,::1,fd00::/8,192.168.0.0/255.255.0.0' })).toEqual(['10.0.0.1', '10.1.0.0/16', 'loopback', '::1', 'fd00::/8', '192.168.0.0/255.255.0.0']);
  });

  it('takes `true` as the one reverse proxy in front (1 hop), never as every X-Forwarded-For entry', () => {
    expect(trustProxy({ TRUST_PROXY: 'true' })).toBe(1);
  });

  it('refuses what is not a proxy, naming it', () => {
    expect(() => trustProxy({ TRUST_PROXY: '*' })).toThrow(/\* is not an address or a range/);
    expect(() => trustProxy({ TRUST_PROXY: '10.0.0.1, proxy.example' })).toThrow(/proxy\.example is not an address/);
    expect(() => trustProxy({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => trustProxy({ TRUST_PROXY: ',' })).toThrow(/names no proxy/);
  });
});

describe('the whole configuration', () => {
  it('reports every wrong variable at once', () => {
    expect(() => serverConfig({ HOST: 'x', RATE_LIMIT_PER_MINUTE: 'y', TRUST_PROXY: 'z' })).toThrow(/HOST=x[\s\S]*RATE_LIMIT_PER_MINUTE=y[\s\S]*TRUST_PROXY=z/);
    expect(serverConfig({})).toEqual({
      databasePath: 'data/isu-ib.sqlite',
      port: 3000,
      host: '127.0.0.1',
      rateLimitPerMinute: 600,
      trustProxy: false,
      secureCookies: false,
      seedDemo: true,
    });
  });
});
