import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashEvent, hashStoredEvent, hashedText, sha256, type HashedEventRow } from '../../src/engine/ledger.ts';

/** The hash as the first events were hashed: sha256(prevHash ‖ canonical JSON of the row without it). */
function reference(row: HashedEventRow): string {
  const { prevHash, ...rest } = row;
  return createHash('sha256').update(prevHash + canonicalJson(rest)).digest('hex');
}

describe('the stored event hash (issue 18.4)', () => {
  const base: HashedEventRow = {
    position: 17,
    streamId: 'application-12',
    seq: 3,
    type: 'update',
    payload: '{"title":"Ремонт «клуба»","costs":{"subsidy":10000000}}',
    facts: '{}',
    actor: '{"id":4,"login":"applicant1","name":"Анна \\"Ивановна\\"","role":"applicant","municipalityId":2}',
    at: '2026-03-01T10:00:00.000Z',
    fromState: 'draft',
    toState: 'draft',
    machineId: 'application',
    machineVersion: 2,
    prevHash: 'a'.repeat(64),
  };

  it('writes the text canonical JSON writes, and hashes to what hashEvent gives', () => {
    const { prevHash, ...rest } = base;
    expect(hashedText(base)).toBe(prevHash + canonicalJson(rest));
    expect(hashStoredEvent(base)).toBe(reference(base));
    expect(hashEvent(base)).toBe(reference(base));
    const first = { ...base, seq: 1, fromState: null, type: 'create', prevHash: '0'.repeat(64) };
    expect(hashStoredEvent(first)).toBe(reference(first));
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agrees with the reference on random rows: control characters, quotes, surrogates, big numbers', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ['a', 'я', '"', '\\', '\n', '\u0000', '\u001f', '\u2028', '\ud83d\ude00', '\ud800', '{', '}', ' ', '«'];
    const text = () => Array.from({ length: Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i += 1) {
      const row: HashedEventRow = {
        position: Math.floor(random() * Number.MAX_SAFE_INTEGER),
        streamId: text(),
        seq: Math.floor(random() * 1e6),
        type: text(),
        payload: text(),
        facts: text(),
        actor: text(),
        at: text(),
        fromState: random() < 0.3 ? null : text(),
        toState: text(),
        machineId: text(),
        machineVersion: Math.floor(random() * 100),
        prevHash: text(),
      };
      expect(hashStoredEvent(row)).toBe(reference(row));
    }
  });
});
