import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/engine/ledger.ts';

/** The form canonical JSON had when the first events were hashed: every stored hash depends on it. */
function original(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(original).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${original(v)}`).join(',')}}`;
}

describe('canonical JSON', () => {
  const values: unknown[] = [
    null,
    0,
    -1.5,
    'строка «в кавычках» \u2028 \ud83d\ude00 "\\"',
    true,
    [],
    {},
    [undefined, null, () => 1, { b: undefined }],
    { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, ä: 1, Z: 2, '': 0, '10': 1, '9': 2 },
    { title: 'Ремонт', costs: { subsidy: 100_000_00, local: 1, residents: 2, business: 0 }, nested: [[1, [2, [3]]]] },
    new Date('2026-12-02T00:00:00Z'),
    { when: new Date(0), list: [new Map(), new Set([1])] },
  ];

  it('writes every value exactly as the original form did, keys sorted at every level, undefined left out', () => {
    for (const value of values) expect(canonicalJson(value)).toBe(original(value));
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: undefined }] })).toBe('{"a":[2,{"d":1}],"b":1}');
  });

  it('agrees with the original on random nested values', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const make = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) return [null, 1, -0, 2.5e-7, 'ключ', '', true, undefined][Math.floor(random() * 8)];
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      // Keys of one character, and integer-like ones ("9", "10", "120"), which JavaScript orders apart.
      const key = () => (random() < 0.5 ? String.fromCharCode(48 + Math.floor(random() * 80)) : String(Math.floor(random() * 200)));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [key(), make(depth + 1)]));
    };
    for (let i = 0; i < 2000; i += 1) {
      const value = make(0);
      expect(canonicalJson(value)).toBe(original(value));
    }
  });
});
