import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, historyCsv } from '../../src/audit/export.ts';
import { contextChanges, flattenContext } from '../../src/audit/diff.ts';
import type { EventRow } from '../../src/engine/engine.ts';

describe('CSV cells', () => {
  it('quote separators, quotes and line breaks, doubling inner quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell(' padded ')).toBe('" padded "');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell('ООО «Монолит»')).toBe('ООО «Монолит»');
  });

  it('defuse formulas: a cell starting with = + - @ tab or CR gets a leading apostrophe', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvLine(['a', '=b', 'c,d'])).toBe(`a,'=b,"c,d"`);
  });

  it('a history: BOM, CRLF, a header and one row per event', () => {
    const row: EventRow = { position: 7, streamId: 'application-1', seq: 1, type: 'create', payload: '{"form":{"title":"=cmd|x"}}', facts: '{}', actor: '{"id":1,"login":"applicant1","municipalityId":1,"name":"=Анна","role":"applicant"}', at: '2027-03-02T05:00:00.000Z', fromState: null, toState: 'draft', machineId: 'application', machineVersion: 1, prevHash: '0'.repeat(64), hash: 'a'.repeat(64) };
    const csv = historyCsv([row], 'Europe/Samara');
    expect(csv.startsWith('\uFEFFseq,position,at_utc,at_local,')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[1]).toContain(`,'=Анна,`);
    expect(lines[1]).toContain('"{""form"":{""title"":""=cmd|x""}}"');
    expect(lines[1]).toContain('02.03.2027, 09:00');
  });
});

describe('field-by-field changes', () => {
  it('opens the form to its fields and cost lines, keeps lists whole, ignores what did not change', () => {
    expect([...flattenContext({ form: { title: 'A', costs: { subsidy: 1 } }, remarks: [{ field: 'title', text: 'x' }] }).keys()]).toEqual(['form.title', 'form.costs.subsidy', 'remarks']);
    const before = { form: { title: 'A', costs: { subsidy: 1, residents: 5 } }, remarks: [], reason: null };
    const after = { form: { title: 'B', costs: { subsidy: 1, residents: 6 }, population: 10 }, remarks: [{ field: 'title', text: 'x' }], reason: null };
    expect(contextChanges(before, after, ['form.title', 'form.population', 'form.costs.residents'])).toEqual([
      { path: 'form.title', before: 'A', after: 'B' },
      { path: 'form.population', before: undefined, after: 10 },
      { path: 'form.costs.residents', before: 5, after: 6 },
      { path: 'remarks', before: [], after: [{ field: 'title', text: 'x' }] },
    ]);
    expect(contextChanges(after, after)).toEqual([]);
  });
});
