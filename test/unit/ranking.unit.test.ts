import { describe, expect, it } from 'vitest';
import { allocate, rankAndAllocate, rankCandidates, type AllocatedRow, type AllocationRules, type Candidate } from '../../src/domain/ranking.ts';

/** Tables checked by hand: each row is [id, total points, first submitted (day of May), requested thousand roubles]. */
type Row = [id: number, points: number, day: number | null, requestedK: number];

const K = 100_000; // a thousand roubles, in kopecks

function candidates(rows: Row[]): Candidate[] {
  return rows.map(([id, points, day, requestedK]) => ({
    id,
    totalCenti: Math.round(points * 100),
    firstSubmittedAt: day === null ? null : `2027-05-${String(day).padStart(2, '0')}T09:00:00.000Z`,
    requestedKopecks: requestedK * K,
  }));
}

const rules = (fundK: number, capK: number, partialAward = false): AllocationRules => ({ fundKopecks: fundK * K, capKopecks: capK * K, partialAward });

/** [id, allocated thousand roubles, fund left thousand roubles, why] per row, in rank order. */
function summary(rows: AllocatedRow[]): [number, number, number, string][] {
  return rows.map((r) => [r.candidate.id, r.allocatedKopecks / K, r.fundLeftKopecks / K, r.outcome === 'partial' ? 'partial' : (r.why ?? 'award')]);
}

describe('ranking', () => {
  it('orders by total descending', () => {
    const ranked = rankCandidates(candidates([[1, 40, 1, 100], [2, 75.5, 2, 100], [3, 60.25, 3, 100]]));
    expect(ranked.map((c) => c.id)).toEqual([2, 3, 1]);
  });

  it('breaks a tie by the earlier first submission, then by the lower number', () => {
    const ranked = rankCandidates(
      candidates([
        [7, 50, 10, 100],
        [3, 50, 12, 100],
        [9, 50, 10, 100],
        [2, 50, null, 100],
        [5, 50.01, 20, 100],
      ]),
    );
    // 5 has a hundredth more; 7 and 9 submitted on the 10th (7 first by number), 3 on the 12th, 2 never recorded: last.
    expect(ranked.map((c) => c.id)).toEqual([5, 7, 9, 3, 2]);
  });

  it('gives every row a unique rank 1…n', () => {
    const rows = rankAndAllocate(candidates([[1, 10, 1, 1], [2, 10, 1, 1], [3, 10, 1, 1]]), rules(10, 10));
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3]);
  });
});

describe('allocation down the ranking', () => {
  it('everything fits: each gets what it asked, the rest of the fund stays', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 500], [2, 80, 1, 300], [3, 70, 1, 200]]), rules(2000, 1500));
    expect(summary(rows)).toEqual([
      [1, 500, 1500, 'award'],
      [2, 300, 1200, 'award'],
      [3, 200, 1000, 'award'],
    ]);
  });

  it('an exact fit takes the fund to zero and the next one is skipped', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 600], [2, 80, 1, 400], [3, 70, 1, 1]]), rules(1000, 1500));
    expect(summary(rows)).toEqual([
      [1, 600, 400, 'award'],
      [2, 400, 0, 'award'],
      [3, 0, 0, 'over-remainder'],
    ]);
  });

  it('skips one that does not fit the remainder and goes on to smaller ones that do', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 700], [2, 80, 1, 500], [3, 70, 1, 300], [4, 60, 1, 100], [5, 50, 1, 50]]), rules(1100, 1500));
    expect(summary(rows)).toEqual([
      [1, 700, 400, 'award'],
      [2, 0, 400, 'over-remainder'],
      [3, 300, 100, 'award'],
      [4, 100, 0, 'award'],
      [5, 0, 0, 'over-remainder'],
    ]);
  });

  it('nothing fits: a fund smaller than every request', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 700], [2, 80, 1, 500]]), rules(100, 1500));
    expect(summary(rows)).toEqual([
      [1, 0, 100, 'over-remainder'],
      [2, 0, 100, 'over-remainder'],
    ]);
  });

  it('the cap: a request above it is skipped even when the fund could pay it', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 1600], [2, 80, 1, 1500], [3, 70, 1, 200]]), rules(5000, 1500));
    expect(summary(rows)).toEqual([
      [1, 0, 5000, 'above-cap'],
      [2, 1500, 3500, 'award'],
      [3, 200, 3300, 'award'],
    ]);
  });

  it('the partial option offers the first one that does not fit all that is left, once', () => {
    const table = candidates([[1, 90, 1, 700], [2, 80, 1, 500], [3, 70, 1, 300], [4, 60, 1, 100]]);
    expect(summary(rankAndAllocate(table, rules(1100, 1500, true)))).toEqual([
      [1, 700, 400, 'award'],
      [2, 400, 0, 'partial'],
      [3, 0, 0, 'over-remainder'],
      [4, 0, 0, 'over-remainder'],
    ]);
    // Without it, the same table skips 2 and pays 3 and 4.
    expect(summary(rankAndAllocate(table, rules(1100, 1500, false)))).toEqual([
      [1, 700, 400, 'award'],
      [2, 0, 400, 'over-remainder'],
      [3, 300, 100, 'award'],
      [4, 100, 0, 'award'],
    ]);
  });

  it('the partial option does not offer an empty remainder, nor bypass the cap', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 1000], [2, 80, 1, 2000], [3, 70, 1, 100]]), rules(1000, 1500, true));
    expect(summary(rows)).toEqual([
      [1, 1000, 0, 'award'],
      [2, 0, 0, 'above-cap'],
      [3, 0, 0, 'over-remainder'],
    ]);
  });

  it('an application requesting nothing gets nothing, and says why', () => {
    const rows = rankAndAllocate(candidates([[1, 90, 1, 0], [2, 80, 1, 100]]), rules(1000, 1500));
    expect(summary(rows)).toEqual([
      [1, 0, 1000, 'nothing-requested'],
      [2, 100, 900, 'award'],
    ]);
  });

  it('an empty ranking allocates nothing', () => {
    expect(allocate([], rules(1000, 1000, true))).toEqual([]);
  });
});

/** A small seeded generator (mulberry32), so that a failure names a seed that reproduces it. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

describe('allocation: properties over many random inputs', () => {
  it('never allocates beyond the fund, keeps every award within its cap and request, and skips nothing that still fitted', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 3000; seed++) {
      const g = generator(seed);
      const n = g.int(0, 40);
      // Coarse points so that ties are common; amounts from 0 to 2 million roubles, often round.
      const list: Candidate[] = Array.from({ length: n }, (_, i) => ({
        id: i + 1,
        totalCenti: g.int(0, 20) * 500,
        firstSubmittedAt: g.next() < 0.1 ? null : `2027-05-${String(g.int(1, 28)).padStart(2, '0')}T0${g.int(0, 9)}:00:00.000Z`,
        requestedKopecks: g.next() < 0.05 ? 0 : g.next() < 0.5 ? g.int(1, 200) * 1_000_000 : g.int(1, 200_000_000),
      }));
      const r: AllocationRules = { fundKopecks: g.int(0, 3_000_000_000), capKopecks: g.int(1, 200_000_000), partialAward: g.next() < 0.5 };
      const rows = rankAndAllocate(list, r);
      const fail = (what: string) => failures.push(`seed ${seed}: ${what}`);

      if (rows.length !== n) fail('a candidate was lost or added');
      const total = rows.reduce((sum, row) => sum + row.allocatedKopecks, 0);
      if (total > r.fundKopecks) fail(`allocated ${total} beyond the fund ${r.fundKopecks}`);
      let left = r.fundKopecks;
      let partials = 0;
      rows.forEach((row, i) => {
        const c = row.candidate;
        if (row.rank !== i + 1) fail(`rank ${row.rank} at position ${i + 1}`);
        if (i > 0) {
          const before = rows[i - 1]!.candidate;
          const ordered = before.totalCenti > c.totalCenti || (before.totalCenti === c.totalCenti && ((before.firstSubmittedAt ?? '\uffff') < (c.firstSubmittedAt ?? '\uffff') || ((before.firstSubmittedAt ?? '\uffff') === (c.firstSubmittedAt ?? '\uffff') && before.id < c.id)));
          if (!ordered) fail(`${before.id} stands before ${c.id} out of order`);
        }
        if (row.allocatedKopecks < 0) fail(`${c.id} got a negative amount`);
        if (row.allocatedKopecks > r.capKopecks) fail(`${c.id} got ${row.allocatedKopecks} above the cap`);
        if (row.allocatedKopecks > c.requestedKopecks) fail(`${c.id} got more than it asked`);
        const fitted = c.requestedKopecks > 0 && c.requestedKopecks <= r.capKopecks && c.requestedKopecks <= left;
        // No skipped application that would still have fitted when it was reached.
        if (fitted && row.allocatedKopecks !== c.requestedKopecks) fail(`${c.id} fitted (${c.requestedKopecks} ≤ ${left}) but got ${row.allocatedKopecks}`);
        if (row.outcome === 'award' && row.allocatedKopecks !== c.requestedKopecks) fail(`${c.id} is an award of a different amount`);
        if (row.outcome === 'skip' && row.allocatedKopecks !== 0) fail(`${c.id} skipped with money`);
        if (row.outcome === 'skip' && row.why === 'over-remainder' && c.requestedKopecks <= left) fail(`${c.id} skipped for the remainder it fitted in`);
        if (row.outcome === 'skip' && row.why === 'above-cap' && c.requestedKopecks <= r.capKopecks) fail(`${c.id} skipped for a cap it is within`);
        if (row.outcome === 'partial') {
          partials++;
          if (!r.partialAward) fail('a partial award without the option');
          if (row.allocatedKopecks !== left || left >= c.requestedKopecks || left <= 0) fail(`${c.id}: the partial award is not the whole of a short remainder`);
        }
        left -= row.allocatedKopecks;
        if (row.fundLeftKopecks !== left) fail(`${c.id}: fund left ${row.fundLeftKopecks}, expected ${left}`);
      });
      if (partials > 1) fail(`${partials} partial awards`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });
});
