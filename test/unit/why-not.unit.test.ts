import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { applicationMachine, whyNotApplication, whyNotCreateApplication, type ApplicationContext } from '../../machines/application.ts';
import { stageMachine, whyNotStage, type StageContext } from '../../machines/stage.ts';
import { stageDefinition, type StageFacts } from '../../machines/stages.ts';
import type { ApplicationForm, ProgrammeRules } from '../../src/domain/application.ts';
import type { Actor } from '../../src/domain/roles.ts';

/**
 * The machines' rules say why (issue 10): each refusal is a code with parameters, the guard is the
 * list being empty, and a page's question (no payload yet) gets the same answer about who and when.
 */
const AT = '2027-05-10T07:00:00.000Z';
const rules: ProgrammeRules = { capKopecks: 150_000_000, minLocalShareBp: 500, minResidentsShareBp: 300 };
const applicant: Actor = { id: 1, login: 'applicant1', name: 'Анна', role: 'applicant', municipalityId: 7 };
const foreign: Actor = { ...applicant, id: 2, login: 'applicant2', municipalityId: 8 };
const reviewer: Actor = { id: 3, login: 'reviewer1', name: 'Ольга', role: 'reviewer', municipalityId: null };
const commission: Actor = { id: 4, login: 'commission1', name: 'Елена', role: 'commission', municipalityId: null };
const coordinator: Actor = { id: 5, login: 'coordinator1', name: 'Сергей', role: 'coordinator', municipalityId: null };
const form: ApplicationForm = {
  title: 'Освещение улицы',
  projectType: 'street-lighting',
  settlement: 'д. Пироги',
  population: 640,
  beneficiaries: 400,
  meetingAttendance: 90,
  problem: 'Темно.',
  description: 'Светильники.',
  durationMonths: 4,
  costs: { subsidy: 80_000_000, localBudget: 8_000_000, residents: 4_000_000, business: 2_000_000 },
};
const context = (changes: Partial<ApplicationContext> = {}): ApplicationContext => ({
  ...(initialTransition(applicationMachine, { programmeId: 1, municipalityId: 7, form, actor: applicant, at: AT })[0].context as ApplicationContext),
  ...changes,
});
const open = ['documentation', 'intake'];
const event = (type: string, payload: unknown, actor: Actor, facts: Record<string, unknown> = { activeStages: open }) => ({ type, payload, actor, at: AT, facts }) as never;

describe('whyNotApplication', () => {
  it('is empty for an event its rules take, and then the machine takes it', () => {
    const problems = whyNotApplication(context(), event('submit', {}, applicant, { activeStages: open, rules }));
    expect(problems).toEqual([]);
    const [draft] = initialTransition(applicationMachine, { programmeId: 1, municipalityId: 7, form, actor: applicant, at: AT });
    expect(transition(applicationMachine, draft, event('submit', {}, applicant, { activeStages: open, rules }))[0].value).toBe('submitted');
  });

  it('names the role, another municipality and a closed stage, each blocking (no field)', () => {
    expect(whyNotApplication(context(), event('submit', {}, reviewer, { activeStages: open, rules }))).toEqual([{ code: 'role', params: { role: 'reviewer' } }]);
    expect(whyNotApplication(context(), event('update', { title: 'x' }, foreign))).toEqual([{ code: 'not-own-municipality' }]);
    expect(whyNotApplication(context(), event('update', { title: 'x' }, applicant, { activeStages: ['commission'] }))).toEqual([
      { code: 'stage.closed', params: { event: 'update', stages: 'preliminary-meetings,final-meetings,documentation,intake' } },
    ]);
  });

  it('names each field a submit lacks, beside the field', () => {
    const problems = whyNotApplication(context({ form: { ...form, title: undefined, costs: { ...form.costs, localBudget: 100 } } }), event('submit', {}, applicant, { activeStages: open, rules }));
    expect(problems).toEqual([
      { field: 'title', code: 'required' },
      { field: 'costs.localBudget', code: 'share-below', params: { min: 500 } },
    ]);
  });

  it('names missing and unaccepted documents, a return without remarks and an award above the request', () => {
    const required = { activeStages: open, rules, requiredDocuments: ['meeting-minutes'] };
    expect(whyNotApplication(context(), event('submit', {}, applicant, required))).toEqual([{ field: 'document.meeting-minutes', code: 'document-missing', params: { kind: 'meeting-minutes' } }]);
    expect(whyNotApplication(context(), event('accept', {}, reviewer, required))).toEqual([{ field: 'document.meeting-minutes', code: 'document-missing', params: { kind: 'meeting-minutes' } }]);
    expect(whyNotApplication(context(), event('return-for-revision', {}, reviewer))).toEqual([{ field: 'remarks', code: 'remarks-required' }]);
    expect(whyNotApplication(context(), event('award', { amountKopecks: 90_000_000 }, commission, { activeStages: ['commission'] }))).toEqual([
      { field: 'amountKopecks', code: 'award-above-request', params: { max: 80_000_000 } },
    ]);
  });

  it('answers a page that asks without a payload with who and when only', () => {
    const asked = (type: string, actor: Actor, facts = { activeStages: open }) => whyNotApplication(context(), event(type, undefined, actor, facts));
    // Nothing blocks a reviewer returning an application: the remarks come with the click.
    expect(asked('return-for-revision', reviewer).every((p) => p.field !== undefined)).toBe(true);
    expect(asked('update', foreign)).toEqual([{ code: 'not-own-municipality' }]);
    expect(asked('award', commission, { activeStages: ['commission'] }).every((p) => p.field !== undefined)).toBe(true);
  });

  it('refuses to open an application while no stage owning `create` is active', () => {
    expect(whyNotCreateApplication({}, { activeStages: ['intake'] })).toEqual([{ code: 'stage.closed', params: { event: 'create', stages: 'preliminary-meetings,final-meetings,documentation' } }]);
    expect(whyNotCreateApplication({}, { activeStages: ['documentation'] })).toEqual([]);
  });
});

describe('whyNotStage', () => {
  const stage = (no: number, key: string): StageContext =>
    initialTransition(stageMachine, { programmeId: 1, no, key, tasks: [...stageDefinition(key)!.tasks], actor: coordinator, at: AT })[0].context as StageContext;
  const exit = (changes: Partial<StageFacts> = {}): StageFacts => ({ stageStates: {}, applicationCounts: {}, programme: { fundKopecks: 1, capKopecks: 1 }, unscheduledStages: [], ...changes });

  it('names the stage before that has not started', () => {
    expect(whyNotStage(stage(2, 'training'), event('start', {}, coordinator, { previousState: 'planned' }))).toEqual([{ code: 'stage.refused.previous-planned', params: { stage: 'preparation' } }]);
    expect(whyNotStage(stage(2, 'training'), event('start', {}, coordinator, { previousState: 'active' }))).toEqual([]);
  });

  it('names the open tasks and the exit condition together, as the stage page lists them', () => {
    expect(whyNotStage(stage(6, 'intake'), event('complete', {}, coordinator, { exit: exit({ applicationCounts: { submitted: 2, returned: 1 } }) }))).toEqual([
      { code: 'stage.refused.tasks-open', params: { count: 3 } },
      { code: 'stage.exit.applications-waiting-decision', params: { count: 3 } },
    ]);
  });

  it('names a task that is not open, and the role', () => {
    expect(whyNotStage(stage(6, 'intake'), event('reopen-task', { task: 'checking' }, coordinator, {}))).toEqual([{ code: 'stage.refused.task-not-done', params: { task: 'checking' } }]);
    expect(whyNotStage(stage(6, 'intake'), event('complete-task', { task: 'nope' }, coordinator, {}))).toEqual([{ code: 'stage.refused.task-not-open', params: { task: 'nope' } }]);
    expect(whyNotStage(stage(6, 'intake'), event('complete-task', { task: 'checking' }, reviewer, {}))).toEqual([{ code: 'role', params: { role: 'reviewer' } }]);
  });
});
