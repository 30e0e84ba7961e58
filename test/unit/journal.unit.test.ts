import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { journalKinds, journalKindStages, type JournalKind } from '../../src/domain/journal.ts';
import type { Actor } from '../../src/domain/roles.ts';
import { roles } from '../../src/domain/roles.ts';
import { journalMachine, whyNotCreateJournal, whyNotJournal, type JournalContext, type JournalCreateFacts } from '../../machines/journal.ts';
import { ru } from '../../src/i18n/ru.ts';
import { en } from '../../src/i18n/en.ts';

/**
 * The journal's rules (issue 14), pure: each kind's fields, who may record, the stage that must be
 * active, the application and municipality an entry names, and the entry's own events.
 */

const coordinator: Actor = { id: 3, login: 'coordinator1', name: 'Сергей Иванов', role: 'coordinator', municipalityId: null };
const reviewer: Actor = { id: 4, login: 'reviewer1', name: 'Ольга Смирнова', role: 'reviewer', municipalityId: null };
const NOW = '2027-04-10T08:00:00.000Z';
const SARAPUL = 2;
const ZAVYALOVO = 1;

/** A valid entry of each kind, and the facts under which it may be recorded. */
const valid: Record<JournalKind, Record<string, unknown>> = {
  announcement: { channel: 'newspaper', date: '2027-01-20', title: 'Объявлен конкурсный отбор', text: 'Порядок участия и сроки.' },
  training: { date: '2027-02-21', topic: 'Как подготовить заявку', format: 'in-person', place: 'Ижевск', municipalityIds: [ZAVYALOVO, SARAPUL], participants: 48 },
  'preliminary-meeting': { municipalityId: SARAPUL, settlement: 'город Сарапул', date: '2027-03-05', attendance: 64, problems: 'Нет освещения на улице Лесной.' },
  'final-meeting': { municipalityId: SARAPUL, settlement: 'город Сарапул', date: '2027-04-01', attendance: 210, project: 'Освещение улицы Лесной', pledgeKopecks: 15_000_000, applicationId: 7 },
  consultation: { municipalityId: SARAPUL, applicationId: 7, date: '2027-04-09', channel: 'phone', topic: 'Смета', question: 'Кто согласует смету?', answer: 'Глава поселения.', consultant: 'Ольга Смирнова' },
  'opening-ceremony': { applicationId: 7, date: '2027-04-10', participants: 150 },
};

function factsFor(kind: JournalKind, application: JournalCreateFacts['application'] = { id: 7, programmeId: 1, municipalityId: SARAPUL, state: 'implementation.completed' }): JournalCreateFacts {
  return { activeStages: [journalKindStages[kind][0]!], application, knownMunicipalities: [ZAVYALOVO, SARAPUL], now: NOW };
}

const problemsOf = (kind: JournalKind, fields: Record<string, unknown>, facts = factsFor(kind), actor: Actor = coordinator) => whyNotCreateJournal({ programmeId: 1, kind, fields }, facts, actor);
const fieldCodes = (kind: JournalKind, fields: Record<string, unknown>, facts = factsFor(kind)) => problemsOf(kind, fields, facts).map((p) => [p.field ?? null, p.code]);

describe('each kind of entry', () => {
  it.each(journalKinds)('%s: takes its valid fields, from a coordinator or a reviewer', (kind) => {
    expect(problemsOf(kind, valid[kind])).toEqual([]);
    expect(problemsOf(kind, valid[kind], factsFor(kind), reviewer)).toEqual([]);
  });

  it.each(journalKinds)('%s: names each missing required field, and an unknown one', (kind) => {
    const problems = fieldCodes(kind, { nonsense: 1 });
    expect(problems).toContainEqual(['nonsense', 'journal.problem.unknown-field']);
    expect(problems.filter(([, code]) => code === 'journal.problem.required').length).toBeGreaterThanOrEqual(2);
    expect(problems.every(([field]) => field !== null)).toBe(true);
  });

  it('announcement: a channel from the list, a real date, a link or a text', () => {
    expect(fieldCodes('announcement', { ...valid.announcement, channel: 'pigeon' })).toEqual([['channel', 'journal.problem.unknown-choice']]);
    expect(fieldCodes('announcement', { ...valid.announcement, date: '2027-02-30' })).toEqual([['date', 'journal.problem.not-a-date']]);
    const { text: _text, ...noText } = valid.announcement;
    expect(fieldCodes('announcement', noText)).toEqual([['link', 'journal.problem.link-or-text']]);
    expect(fieldCodes('announcement', { ...noText, link: 'javascript:alert(1)' })).toEqual([['link', 'journal.problem.not-a-link']]);
    expect(fieldCodes('announcement', { ...noText, link: 'https://udmurt.ru/news/1' })).toEqual([]);
    expect(fieldCodes('announcement', { ...valid.announcement, title: 'x'.repeat(301) })).toEqual([['title', 'journal.problem.too-long']]);
    // The character rule of every text field: a control character pasted in is refused in words, a line break in a long text is not.
    expect(fieldCodes('announcement', { ...valid.announcement, title: 'Объявлен\u0007 конкурс' })).toEqual([['title', 'journal.problem.text-characters']]);
    expect(fieldCodes('announcement', { ...valid.announcement, text: 'Порядок участия.\nСроки этапов.' })).toEqual([]);
  });

  it('training: a format, at least one attending municipality, each once and known, a positive count', () => {
    expect(fieldCodes('training', { ...valid.training, format: 'hybrid' })).toEqual([['format', 'journal.problem.unknown-choice']]);
    expect(fieldCodes('training', { ...valid.training, municipalityIds: [] })).toEqual([['municipalityIds', 'journal.problem.required']]);
    expect(fieldCodes('training', { ...valid.training, municipalityIds: [SARAPUL, SARAPUL] })).toEqual([['municipalityIds', 'journal.problem.repeated']]);
    expect(fieldCodes('training', { ...valid.training, municipalityIds: [SARAPUL, 99] })).toEqual([['municipalityIds', 'journal.problem.unknown-municipality']]);
    expect(fieldCodes('training', { ...valid.training, participants: 0 })).toEqual([['participants', 'journal.problem.out-of-range']]);
    expect(fieldCodes('training', { ...valid.training, participants: 2.5 })).toEqual([['participants', 'journal.problem.invalid']]);
  });

  it('meetings: a known municipality, attendance, what was discussed or chosen, a pledge in whole kopecks', () => {
    expect(fieldCodes('preliminary-meeting', { ...valid['preliminary-meeting'], municipalityId: 99 })).toEqual([['municipalityId', 'journal.problem.unknown-municipality']]);
    expect(fieldCodes('preliminary-meeting', { ...valid['preliminary-meeting'], problems: '   ' })).toEqual([['problems', 'journal.problem.required']]);
    expect(fieldCodes('final-meeting', { ...valid['final-meeting'], pledgeKopecks: -1 })).toEqual([['pledgeKopecks', 'journal.problem.out-of-range']]);
    // A preliminary meeting produced no application yet: it cannot name one.
    expect(fieldCodes('preliminary-meeting', { ...valid['preliminary-meeting'], applicationId: 7 })).toEqual([['applicationId', 'journal.problem.unknown-field']]);
  });

  it('consultation and final meeting: an application of another municipality is refused beside the field', () => {
    const other = { id: 7, programmeId: 1, municipalityId: ZAVYALOVO, state: 'draft' };
    expect(fieldCodes('consultation', valid.consultation, factsFor('consultation', other))).toEqual([['applicationId', 'journal.problem.application-other-municipality']]);
    expect(fieldCodes('final-meeting', valid['final-meeting'], factsFor('final-meeting', other))).toEqual([['applicationId', 'journal.problem.application-other-municipality']]);
    // Of another programme, or none at all: not found.
    expect(fieldCodes('consultation', valid.consultation, factsFor('consultation', { ...other, municipalityId: SARAPUL, programmeId: 2 }))).toEqual([['applicationId', 'journal.problem.unknown-application']]);
    expect(fieldCodes('consultation', valid.consultation, factsFor('consultation', null))).toEqual([['applicationId', 'journal.problem.unknown-application']]);
    // Without an application, about the municipality alone.
    const { applicationId: _a, ...general } = valid.consultation;
    expect(fieldCodes('consultation', general, factsFor('consultation', undefined))).toEqual([]);
  });

  it('opening ceremony: only a winning application’s object, on a date that has come', () => {
    expect(fieldCodes('opening-ceremony', valid['opening-ceremony'], factsFor('opening-ceremony', { id: 7, programmeId: 1, municipalityId: SARAPUL, state: 'accepted' }))).toEqual([
      ['applicationId', 'journal.problem.application-not-awarded'],
    ]);
    expect(fieldCodes('opening-ceremony', { ...valid['opening-ceremony'], date: '2027-04-12' })).toEqual([['date', 'journal.problem.date-in-future']]);
    // The programme's day may be ahead of UTC's by a few hours.
    expect(fieldCodes('opening-ceremony', { ...valid['opening-ceremony'], date: '2027-04-11' })).toEqual([]);
  });

  it('every problem code is in both catalogues', () => {
    const codes = new Set<string>();
    for (const kind of journalKinds) for (const problem of problemsOf(kind, { nonsense: 'x', date: 'soon', municipalityId: 99 })) codes.add(problem.code);
    for (const code of codes) {
      expect(ru, code).toHaveProperty([code]);
      expect(en, code).toHaveProperty([code]);
    }
  });
});

describe('who and when', () => {
  it('refuses every role but coordinators and reviewers, whatever the fields', () => {
    for (const role of roles) {
      const actor = { ...coordinator, role };
      const blocked = problemsOf('consultation', valid.consultation, factsFor('consultation'), actor).some((p) => p.code === 'role');
      expect(blocked, role).toBe(role !== 'coordinator' && role !== 'reviewer');
    }
  });

  it.each(journalKinds)('%s: only while a stage that owns the kind is active', (kind) => {
    const closed = problemsOf(kind, valid[kind], { ...factsFor(kind), activeStages: ['closing'] });
    expect(closed).toEqual([{ code: 'journal.refused.stage-closed', params: { kind, stages: journalKindStages[kind].join(',') } }]);
    for (const stage of journalKindStages[kind]) expect(problemsOf(kind, valid[kind], { ...factsFor(kind), activeStages: [stage] }), stage).toEqual([]);
  });

  it('a page asking what it may offer is told only what no field can fix', () => {
    expect(whyNotCreateJournal({ programmeId: 1, kind: 'training' }, { activeStages: ['training'] }, coordinator)).toEqual([]);
    expect(whyNotCreateJournal({ programmeId: 1, kind: 'training' }, { activeStages: ['intake'] }, coordinator).map((p) => p.code)).toEqual(['journal.refused.stage-closed']);
  });

  it('a correction supersedes a standing entry of the same kind and programme', () => {
    const facts = (superseded: JournalCreateFacts['superseded']) => ({ ...factsFor('consultation'), superseded });
    const input = (supersedes: number) => ({ programmeId: 1, kind: 'consultation', fields: valid.consultation, supersedes });
    expect(whyNotCreateJournal(input(5), facts({ id: 5, programmeId: 1, kind: 'consultation', state: 'recorded' }), coordinator)).toEqual([]);
    expect(whyNotCreateJournal(input(5), facts({ id: 5, programmeId: 1, kind: 'consultation', state: 'superseded' }), coordinator).map((p) => p.code)).toEqual(['journal.refused.already-superseded']);
    expect(whyNotCreateJournal(input(5), facts({ id: 5, programmeId: 1, kind: 'training', state: 'recorded' }), coordinator).map((p) => p.code)).toEqual(['journal.refused.superseded-other-kind']);
    expect(whyNotCreateJournal(input(5), facts({ id: 5, programmeId: 2, kind: 'consultation', state: 'recorded' }), coordinator).map((p) => p.code)).toEqual(['journal.refused.superseded-unknown']);
  });
});

describe('an entry’s own events', () => {
  const start = (kind: JournalKind, fields = valid[kind]) => initialTransition(journalMachine, { programmeId: 1, kind, fields, supersedes: null, actor: coordinator, at: NOW })[0];
  const event = (type: string, payload: unknown, facts: Record<string, unknown> = {}, actor: Actor = coordinator) => ({ type, payload, facts, actor, at: NOW }) as never;
  const pdf = { role: 'minutes', name: 'Протокол.pdf', size: 2048, mediaType: 'application/pdf', sha256: 'a'.repeat(64) };

  it('records documents of the roles its kind takes, in the types each takes', () => {
    const meeting = start('final-meeting');
    const [withMinutes] = transition(journalMachine, meeting, event('attach-document', pdf));
    expect((withMinutes.context as JournalContext).documents).toEqual([{ ...pdf, attachedAt: NOW }]);
    expect(whyNotJournal(meeting.context as JournalContext, event('attach-document', { ...pdf, role: 'photos' }))).toEqual([{ field: 'role', code: 'journal.problem.document-role' }]);
    expect(whyNotJournal(meeting.context as JournalContext, event('attach-document', { ...pdf, mediaType: 'image/png' }))).toEqual([{ field: 'file', code: 'document-type-not-accepted' }]);
    expect(whyNotJournal(start('consultation').context as JournalContext, event('attach-document', undefined)).map((p) => p.code)).toEqual(['journal.refused.no-documents']);
  });

  it('links a final meeting once, to an application of its own municipality', () => {
    const { applicationId: _a, ...unlinked } = valid['final-meeting'];
    const meeting = start('final-meeting', unlinked);
    expect(whyNotJournal(meeting.context as JournalContext, event('link-application', { applicationId: 9 }, { applications: [7, 8] }))).toEqual([{ field: 'applicationId', code: 'journal.problem.application-other-municipality' }]);
    const [linked] = transition(journalMachine, meeting, event('link-application', { applicationId: 8 }, { applications: [7, 8] }));
    expect((linked.context as JournalContext).applicationId).toBe(8);
    expect(whyNotJournal(linked.context as JournalContext, event('link-application', { applicationId: 7 }, { applications: [7, 8] })).map((p) => p.code)).toEqual(['journal.refused.already-linked']);
    expect(whyNotJournal(start('consultation').context as JournalContext, event('link-application', { applicationId: 7 }, { applications: [7] })).map((p) => p.code)).toEqual(['journal.refused.link-not-final-meeting']);
  });

  it('is superseded once, and then takes nothing', () => {
    const [superseded] = transition(journalMachine, start('consultation'), event('supersede', { by: 12 }));
    expect(superseded.value).toBe('superseded');
    expect((superseded.context as JournalContext).supersededBy).toBe(12);
    const [again] = transition(journalMachine, superseded, event('supersede', { by: 13 }));
    expect(again).toBe(superseded);
    const applicant: Actor = { ...coordinator, role: 'applicant', municipalityId: SARAPUL };
    expect(whyNotJournal(start('consultation').context as JournalContext, event('supersede', { by: 12 }, {}, applicant)).map((p) => p.code)).toEqual(['role']);
  });
});
