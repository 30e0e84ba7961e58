import { translator } from '../../src/i18n/index.ts';
import { describe, expect, it } from 'vitest';
import { applicationEventTypes, applicationStates } from '../../machines/application.ts';
import { stageDefinitions, stageKeys, stagesOwning, type ExitVerdict, type StageFacts, type StageKey, type StageStateName } from '../../machines/stages.ts';
import { en } from '../../src/i18n/en.ts';
import { ru } from '../../src/i18n/ru.ts';

/** A journal with an announcement, a training and a final meeting in Сарапул (id 2): what stages 1, 2 and 4 wait for. */
const journalHolds: StageFacts['journal'] = { byKind: { announcement: 1, training: 2, 'final-meeting': 1 }, byMunicipality: { 'final-meeting': { '2': 1 }, training: { '1': 2, '2': 2 } } };
const sarapul = { id: 2, name: 'город Сарапул' };
const zavyalovo = { id: 1, name: 'Завьяловский район' };

/**
 * A programme in the middle of its year, as the engine would read it: the stages numbered below `completedBefore`
 * completed, the rest planned, every stage scheduled, the fund and cap set, no application yet, the journal's evidence there.
 */
function facts(options: { completedBefore?: number; counts?: Record<string, number>; stageStates?: Partial<Record<StageKey, StageStateName>> } & Partial<Omit<StageFacts, 'stageStates' | 'applicationCounts'>> = {}): StageFacts {
  const { completedBefore = 0, counts = {}, stageStates = {}, ...rest } = options;
  return {
    stageStates: { ...Object.fromEntries(stageDefinitions.map((d) => [d.key, d.no < completedBefore ? 'completed' : 'planned'])), ...stageStates },
    applicationCounts: counts,
    programme: { fundKopecks: 6_000_000_000, capKopecks: 150_000_000 },
    unscheduledStages: [],
    journal: journalHolds,
    appliedMunicipalities: [sarapul],
    ...rest,
  };
}

interface Case {
  /** Facts that hold the stage back, and the verdict they give. */
  held: { facts: StageFacts; code: string; params?: ExitVerdict['params'] }[];
  /** Facts that let it go: close to the held ones, so that the difference is what the condition looks at. */
  free: StageFacts[];
}

/** One entry per stage key: a new stage does not compile until its exit condition has cases here. */
const cases: Record<StageKey, Case> = {
  preparation: {
    held: [
      { facts: facts({ programme: { fundKopecks: 0, capKopecks: 150_000_000 } }), code: 'programme-parameters' },
      { facts: facts({ programme: { fundKopecks: 6_000_000_000, capKopecks: 0 } }), code: 'programme-parameters' },
      { facts: facts({ unscheduledStages: ['training', 'closing'] }), code: 'stages-unscheduled', params: { count: 2 } },
      { facts: facts({ unscheduledStages: ['preparation', 'intake'] }), code: 'stages-unscheduled', params: { count: 1 } },
      // The competition is not announced until the journal says so (issue 14); events before the journal carry none.
      { facts: facts({ journal: { byKind: { training: 2 }, byMunicipality: {} } }), code: 'no-announcement' },
      { facts: facts({ journal: undefined }), code: 'no-announcement' },
    ],
    // Its own dates do not matter: the preparation plans the stages after it.
    free: [facts(), facts({ unscheduledStages: ['preparation'] })],
  },
  training: {
    held: [
      { facts: facts({ stageStates: { preparation: 'active' } }), code: 'stage-not-completed', params: { stage: 'preparation' } },
      { facts: facts({ stageStates: { preparation: 'planned' } }), code: 'stage-not-completed', params: { stage: 'preparation' } },
      { facts: facts({ completedBefore: 2, journal: { byKind: { announcement: 1, consultation: 4 }, byMunicipality: {} } }), code: 'no-training' },
    ],
    free: [facts({ completedBefore: 2 }), facts({ completedBefore: 2, journal: { byKind: { training: 1 }, byMunicipality: {} } })],
  },
  'preliminary-meetings': {
    held: [{ facts: facts({ completedBefore: 2, stageStates: { training: 'active' } }), code: 'stage-not-completed', params: { stage: 'training' } }],
    free: [facts({ completedBefore: 3 })],
  },
  'final-meetings': {
    held: [
      { facts: facts({ completedBefore: 3, stageStates: { 'preliminary-meetings': 'active' } }), code: 'stage-not-completed', params: { stage: 'preliminary-meetings' } },
      // Each municipality that applied without a final meeting in the journal is named; a meeting elsewhere does not count.
      { facts: facts({ completedBefore: 4, appliedMunicipalities: [zavyalovo, sarapul] }), code: 'final-meetings-missing', params: { count: 1, municipalities: 'Завьяловский район' } },
      {
        facts: facts({ completedBefore: 4, appliedMunicipalities: [zavyalovo, sarapul], journal: { byKind: { 'final-meeting': 3 }, byMunicipality: { 'final-meeting': { '7': 3 } } } }),
        code: 'final-meetings-missing',
        params: { count: 2, municipalities: 'Завьяловский район, город Сарапул' },
      },
    ],
    // Nobody applied yet, or each that applied held its meeting.
    free: [facts({ completedBefore: 4 }), facts({ completedBefore: 4, appliedMunicipalities: [], journal: undefined })],
  },
  documentation: {
    held: [
      { facts: facts({ completedBefore: 5, counts: { 'under-review': 2, submitted: 4 } }), code: 'applications-under-review', params: { count: 2 } },
    ],
    // Drafts, submissions and returns wait for the intake, not for the documentation stage.
    free: [facts({ completedBefore: 5, counts: { draft: 3, submitted: 4, returned: 1, 'under-review': 0 } })],
  },
  intake: {
    held: [
      { facts: facts({ completedBefore: 6, counts: { submitted: 1 } }), code: 'applications-waiting-decision', params: { count: 1 } },
      { facts: facts({ completedBefore: 6, counts: { 'under-review': 2 } }), code: 'applications-waiting-decision', params: { count: 2 } },
      { facts: facts({ completedBefore: 6, counts: { returned: 1 } }), code: 'applications-waiting-decision', params: { count: 1 } },
      { facts: facts({ completedBefore: 6, counts: { submitted: 1, 'under-review': 2, returned: 3, accepted: 5 } }), code: 'applications-waiting-decision', params: { count: 6 } },
    ],
    free: [facts({ completedBefore: 6, counts: { draft: 2, accepted: 5, rejected: 1, withdrawn: 1 } })],
  },
  commission: {
    held: [{ facts: facts({ completedBefore: 7, counts: { accepted: 3, awarded: 4 } }), code: 'applications-undecided', params: { count: 3 } }],
    free: [facts({ completedBefore: 7, counts: { awarded: 4, 'not-awarded': 3, rejected: 1 } })],
  },
  legal: {
    held: [
      { facts: facts({ completedBefore: 8, counts: { awarded: 1 } }), code: 'applications-without-agreement', params: { count: 1 } },
      { facts: facts({ completedBefore: 8, counts: { 'implementation.agreement': 2 } }), code: 'applications-without-agreement', params: { count: 2 } },
      {
        facts: facts({ completedBefore: 8, counts: { awarded: 1, 'implementation.agreement': 1, 'implementation.co-financing': 1, 'implementation.procurement': 4 } }),
        code: 'applications-without-agreement',
        params: { count: 3 },
      },
    ],
    free: [facts({ completedBefore: 8, counts: { 'implementation.procurement': 4, 'implementation.works': 1, 'not-awarded': 3 } })],
  },
  procurement: {
    held: [{ facts: facts({ completedBefore: 9, counts: { 'implementation.procurement': 2, 'implementation.works': 1 } }), code: 'applications-without-contract', params: { count: 2 } }],
    free: [facts({ completedBefore: 9, counts: { 'implementation.works': 3, terminated: 1 } })],
  },
  works: {
    held: [{ facts: facts({ completedBefore: 10, counts: { 'implementation.works': 1, 'implementation.completed': 2 } }), code: 'works-unfinished', params: { count: 1 } }],
    free: [facts({ completedBefore: 10, counts: { 'implementation.completed': 2, closed: 1, terminated: 1 } })],
  },
  monitoring: {
    held: [
      { facts: facts({ completedBefore: 10, stageStates: { works: 'active' }, counts: { 'implementation.completed': 2 } }), code: 'stage-not-completed', params: { stage: 'works' } },
    ],
    free: [facts({ completedBefore: 11, counts: { 'implementation.completed': 2 } })],
  },
  closing: {
    held: [
      { facts: facts({ completedBefore: 12, counts: { 'implementation.completed': 1, closed: 5 } }), code: 'projects-open', params: { count: 1 } },
      { facts: facts({ completedBefore: 12, counts: { awarded: 1 } }), code: 'projects-open', params: { count: 1 } },
      {
        facts: facts({
          completedBefore: 12,
          counts: {
            awarded: 1,
            'implementation.agreement': 1,
            'implementation.co-financing': 1,
            'implementation.procurement': 1,
            'implementation.works': 1,
            'implementation.completed': 1,
          },
        }),
        code: 'projects-open',
        params: { count: 6 },
      },
    ],
    free: [facts({ completedBefore: 12, counts: { closed: 5, terminated: 1, 'not-awarded': 3, rejected: 2, withdrawn: 1 } })],
  },
};

const ruCatalogue: Record<string, string> = ru;
const enCatalogue: Record<string, string> = en;

describe('the twelve stages', () => {
  it('are the stages of DESIGN §2, numbered 1–12 in order, each with a checklist', () => {
    expect(stageDefinitions.map((d) => d.key)).toEqual([...stageKeys]);
    expect(stageDefinitions.map((d) => d.no)).toEqual(stageKeys.map((_, i) => i + 1));
    for (const d of stageDefinitions) {
      expect(d.tasks.length, d.key).toBeGreaterThan(0);
      expect(new Set(d.tasks).size, d.key).toBe(d.tasks.length);
      // Names live in the catalogues, in both languages (machines/ holds keys only).
      for (const lang of ['ru', 'en'] as const) {
        const t = translator(lang);
        expect(t(`stage.name.${d.key}`), `${lang} ${d.key}`).not.toBe(`stage.name.${d.key}`);
        for (const task of d.tasks) expect(t(`stage.task.${d.key}.${task}`), `${lang} ${d.key}.${task}`).not.toBe(`stage.task.${d.key}.${task}`);
      }
    }
  });

  it('own only events that applications have (or their creation), and hold only states that exist', () => {
    for (const d of stageDefinitions) {
      for (const type of d.ownsEvents) expect(['create', ...applicationEventTypes], `${d.key} owns ${type}`).toContain(type);
      for (const state of d.holdsStates) expect(applicationStates, `${d.key} holds ${state}`).toContain(state);
    }
    expect(stagesOwning('create').map((d) => d.key)).toEqual(['preliminary-meetings', 'final-meetings', 'documentation']);
    expect(stagesOwning('withdraw')).toEqual([]);
    expect(stagesOwning('terminate')).toEqual([]);
  });
});

describe('each exit condition', () => {
  for (const definition of stageDefinitions) {
    describe(`stage ${definition.no}, ${definition.key}`, () => {
      const { held, free } = cases[definition.key];

      it('holds the stage back, and says why', () => {
        expect(held.length).toBeGreaterThan(0);
        for (const { facts: given, code, params } of held) {
          const verdict = definition.exit(given);
          expect(verdict, JSON.stringify(given)).toEqual(params ? { holds: false, code, params } : { holds: false, code });
          // The coordinator reads the reason in either language, with every placeholder filled.
          for (const catalogue of [ruCatalogue, enCatalogue]) {
            const message = catalogue[`stage.exit.${code}`];
            expect(message, `stage.exit.${code}`).toBeDefined();
            for (const [, name] of message!.matchAll(/\{(\w+)\}/g)) expect(Object.keys(params ?? {}), `stage.exit.${code}`).toContain(name);
          }
        }
      });

      it('lets the stage go', () => {
        expect(free.length).toBeGreaterThan(0);
        for (const given of free) expect(definition.exit(given), JSON.stringify(given)).toEqual({ holds: true, code: 'ok' });
      });
    });
  }
});
