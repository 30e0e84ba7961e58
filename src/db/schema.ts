import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';

export const programmes = sqliteTable('programmes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  title: text('title').notNull(),
  year: integer('year').notNull(),
  region: text('region').notNull(),
  timeZone: text('time_zone').notNull(),
  fundKopecks: integer('fund_kopecks').notNull(),
  capKopecks: integer('cap_kopecks').notNull(),
  /** Minimum shares of the total cost, in basis points (500 = 5 %). */
  minLocalShareBp: integer('min_local_share_bp').notNull(),
  minResidentsShareBp: integer('min_residents_share_bp').notNull(),
  /** The prefix of its applications' registration numbers (issue 13), set by the admin; none: the default code. */
  code: text('code'),
  /** What the co-financiers' share of a contract's savings becomes (issue 11): `keep` (re-used in the project) or `refund`. */
  savingsRule: text('savings_rule', { enum: ['keep', 'refund'] }).notNull().default('keep'),
  createdAt: text('created_at').notNull(),
});

export const municipalities = sqliteTable('municipalities', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull(),
  population: integer('population').notNull(),
});

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  login: text('login').notNull().unique(),
  name: text('name').notNull(),
  role: text('role').notNull(),
  municipalityId: integer('municipality_id').references(() => municipalities.id),
  passwordHash: text('password_hash').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: text('created_at').notNull(),
  /** Where notifications are e-mailed (issue 12); none: the inbox only. */
  email: text('email'),
  /** The language of the user's e-mails: the one they last chose on the site. */
  lang: text('lang').notNull().default('ru'),
});

/** Cookie sessions and API bearer tokens; only the SHA-256 of the secret is stored. */
export const sessions = sqliteTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind').notNull(),
    csrfSecret: text('csrf_secret'),
    createdAt: text('created_at').notNull(),
    lastSeenAt: text('last_seen_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** One row per event-sourced stream: the current snapshot and the head of its hash chain. */
export const streams = sqliteTable('streams', {
  id: text('id').primaryKey(),
  kind: text('kind').notNull(),
  machineId: text('machine_id').notNull(),
  machineVersion: integer('machine_version').notNull(),
  state: text('state').notNull(),
  snapshot: text('snapshot').notNull(),
  version: integer('version').notNull(),
  headHash: text('head_hash').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** The append-only, hash-chained log. `position` orders every event of every stream. */
export const events = sqliteTable(
  'events',
  {
    position: integer('position').primaryKey({ autoIncrement: true }),
    streamId: text('stream_id')
      .notNull()
      .references(() => streams.id),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    payload: text('payload').notNull(),
    facts: text('facts').notNull(),
    actor: text('actor').notNull(),
    at: text('at').notNull(),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    machineId: text('machine_id').notNull(),
    machineVersion: integer('machine_version').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [uniqueIndex('events_stream_seq').on(t.streamId, t.seq)],
);

/** The list projection of applications, written by the engine in the same transaction as its events. */
export const applications = sqliteTable(
  'applications',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    streamId: text('stream_id')
      .notNull()
      .unique()
      .references(() => streams.id),
    programmeId: integer('programme_id')
      .notNull()
      .references(() => programmes.id),
    municipalityId: integer('municipality_id')
      .notNull()
      .references(() => municipalities.id),
    title: text('title').notNull(),
    projectType: text('project_type'),
    settlement: text('settlement'),
    /** Title and settlement in lower case: SQLite's LIKE folds only ASCII, and titles are Cyrillic. */
    search: text('search').notNull().default(''),
    state: text('state').notNull(),
    version: integer('version').notNull(),
    subsidyKopecks: integer('subsidy_kopecks').notNull().default(0),
    totalKopecks: integer('total_kopecks').notNull().default(0),
    awardedKopecks: integer('awarded_kopecks'),
    /** After the award (issue 11), from the application's stream: the agreed total, what was received and spent, the progress. */
    agreedKopecks: integer('agreed_kopecks'),
    receivedKopecks: integer('received_kopecks').notNull().default(0),
    spentKopecks: integer('spent_kopecks'),
    progressPercent: integer('progress_percent').notNull().default(0),
    firstSubmittedAt: text('first_submitted_at'),
    /** The registration number given at the first submission (issue 13), `<code>-<year>-<NNNN>`; older ones have none. */
    registrationNo: text('registration_no'),
    /** Its place in the programme's sequence of numbers: the next one is the greatest plus one. */
    registrationSeq: integer('registration_seq'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('applications_registration_no').on(t.registrationNo),
    uniqueIndex('applications_registration_seq').on(t.programmeId, t.registrationSeq),
    index('applications_programme_state').on(t.programmeId, t.state),
    index('applications_municipality').on(t.municipalityId, t.state),
    index('applications_title').on(t.title),
    index('applications_type').on(t.projectType),
    // The list's keyset pages (migrations/0020).
    index('applications_updated').on(t.updatedAt),
    index('applications_programme_updated').on(t.programmeId, t.updatedAt),
    index('applications_municipality_updated').on(t.municipalityId, t.updatedAt),
  ],
);

/**
 * The time each application spent in each state (issue 13): one row per stay, opened by the event
 * whose `to_state` entered the state and closed by the next one that left it, both read from the
 * log (`at`, `from_state`, `to_state`) in that event's transaction. The dashboard's waiting times
 * read the closed stays ordered by duration from one index, the running ones by their start.
 */
export const applicationStateSpells = sqliteTable(
  'application_state_spells',
  {
    applicationId: integer('application_id')
      .notNull()
      .references(() => applications.id),
    /** The seq of the event that entered the state. */
    seq: integer('seq').notNull(),
    programmeId: integer('programme_id')
      .notNull()
      .references(() => programmes.id),
    state: text('state').notNull(),
    enteredAt: text('entered_at').notNull(),
    /** The time of the event that left the state; none while the application is still in it. */
    leftAt: text('left_at'),
    durationMs: integer('duration_ms'),
  },
  (t) => [
    primaryKey({ columns: [t.applicationId, t.seq] }),
    index('application_state_spells_closed').on(t.programmeId, t.state, t.durationMs).where(sql`left_at IS NOT NULL`),
    index('application_state_spells_open').on(t.programmeId, t.state, t.enteredAt).where(sql`left_at IS NULL`),
  ],
);

/**
 * The dashboard's counts (issue 13), kept by triggers on `applications` in the same transaction as
 * every write to it (migrations/0015): applications, subsidy requested and awarded per programme,
 * municipality and state, so that the matrix and the fund read a few hundred rows, not every application.
 */
export const applicationCounts = sqliteTable(
  'application_counts',
  {
    programmeId: integer('programme_id').notNull(),
    municipalityId: integer('municipality_id').notNull(),
    state: text('state').notNull(),
    count: integer('count').notNull(),
    subsidyKopecks: integer('subsidy_kopecks').notNull(),
    awardedKopecks: integer('awarded_kopecks').notNull(),
    awardedCount: integer('awarded_count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.municipalityId, t.state] })],
);

/** How many stays each state of each programme has had, finished and running: kept by triggers on application_state_spells. */
export const stateSpellCounts = sqliteTable(
  'state_spell_counts',
  {
    programmeId: integer('programme_id').notNull(),
    state: text('state').notNull(),
    finished: integer('finished').notNull(),
    running: integer('running').notNull(),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.state] })],
);

/**
 * The finished stays of each state counted by whole hours of their duration (−1: a negative one, a
 * clock set back), kept by the same triggers: a percentile's rank is found by walking these counts,
 * and its exact value by a short step along the durations' index inside that hour.
 */
export const stateSpellHours = sqliteTable(
  'state_spell_hours',
  {
    programmeId: integer('programme_id').notNull(),
    state: text('state').notNull(),
    hour: integer('hour').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.state, t.hour] })],
);

/** The projection of stage streams: the timeline and the gating of application events read it. */
export const stages = sqliteTable(
  'stages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    streamId: text('stream_id')
      .notNull()
      .unique()
      .references(() => streams.id),
    programmeId: integer('programme_id')
      .notNull()
      .references(() => programmes.id),
    no: integer('no').notNull(),
    key: text('key').notNull(),
    state: text('state').notNull(),
    version: integer('version').notNull(),
    plannedStart: text('planned_start'),
    plannedEnd: text('planned_end'),
    startedAt: text('started_at'),
    completedAt: text('completed_at'),
    tasksDone: integer('tasks_done').notNull().default(0),
    tasksTotal: integer('tasks_total').notNull().default(0),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('stages_programme_no').on(t.programmeId, t.no), index('stages_programme_state').on(t.programmeId, t.state)],
);

/** The commission's criteria, weights, quorum and partial-award option per programme (issue 5); set by an admin before stage 7 starts. */
export const commissionSettings = sqliteTable('commission_settings', {
  programmeId: integer('programme_id')
    .primaryKey()
    .references(() => programmes.id),
  /** JSON: [{key, weight, fullAtBp}] in the order the protocol prints them. */
  criteria: text('criteria').notNull(),
  quorum: integer('quorum').notNull(),
  partialAward: integer('partial_award', { mode: 'boolean' }).notNull().default(false),
  updatedAt: text('updated_at').notNull(),
  updatedBy: text('updated_by'),
});

/** What the form-derived criteria read, projected by the engine with every application event (no snapshot parsed per row). */
export const applicationScoring = sqliteTable('application_scoring', {
  applicationId: integer('application_id')
    .primaryKey()
    .references(() => applications.id),
  population: integer('population').notNull().default(0),
  beneficiaries: integer('beneficiaries').notNull().default(0),
  meetingAttendance: integer('meeting_attendance').notNull().default(0),
  subsidyKopecks: integer('subsidy_kopecks').notNull().default(0),
  localBudgetKopecks: integer('local_budget_kopecks').notNull().default(0),
  residentsKopecks: integer('residents_kopecks').notNull().default(0),
  businessKopecks: integer('business_kopecks').notNull().default(0),
  nonMonetaryKopecks: integer('non_monetary_kopecks').notNull().default(0),
});

/** Each member's current score of an application; the log keeps every earlier one. */
export const scores = sqliteTable(
  'scores',
  {
    applicationId: integer('application_id')
      .notNull()
      .references(() => applications.id),
    memberId: integer('member_id')
      .notNull()
      .references(() => users.id),
    /** Social significance in hundredths, 0…500. */
    significanceCenti: integer('significance_centi').notNull(),
    comment: text('comment'),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.applicationId, t.memberId] }), index('scores_member').on(t.memberId)],
);

/**
 * The commission's decision, one per programme: who was present, the criteria and the ranking as
 * decided, and the ledger head right after its award events, so that the protocol is reproducible.
 */
export const commissionDecisions = sqliteTable('commission_decisions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  programmeId: integer('programme_id')
    .notNull()
    .unique()
    .references(() => programmes.id),
  decidedAt: text('decided_at').notNull(),
  /** JSON of the commission member who recorded it. */
  decidedBy: text('decided_by').notNull(),
  /** JSON: [{id, login, name}]. */
  membersPresent: text('members_present').notNull(),
  /** Canonical JSON: settings, fund, cap and every ranked row with its points and allocation. */
  record: text('record').notNull(),
  /** sha256 of `record`: printed on the protocol beside the ledger head. */
  recordHash: text('record_hash').notNull(),
  ledgerHead: text('ledger_head').notNull(),
  ledgerEvents: integer('ledger_events').notNull(),
});

/**
 * The documents a programme asks for (issue 7): per project type (`*`: every type, overridden by a
 * row for one type), with the file types each kind takes and its size limit. Set by an admin.
 */
export const documentRequirements = sqliteTable(
  'document_requirements',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    programmeId: integer('programme_id')
      .notNull()
      .references(() => programmes.id),
    projectType: text('project_type').notNull(),
    kind: text('kind').notNull(),
    required: integer('required', { mode: 'boolean' }).notNull(),
    /** JSON: the accepted file types, e.g. ["pdf","png"]. */
    fileTypes: text('file_types').notNull(),
    maxBytes: integer('max_bytes').notNull(),
    updatedAt: text('updated_at').notNull(),
    updatedBy: text('updated_by'),
  },
  (t) => [uniqueIndex('document_requirements_programme_type_kind').on(t.programmeId, t.projectType, t.kind)],
);

/**
 * The conflicts of interest reviewers declared (issue 16), projected from their `reviewer`
 * streams: a reviewer may not review, take or be given an application of these municipalities.
 */
export const reviewerConflicts = sqliteTable(
  'reviewer_conflicts',
  {
    reviewerId: integer('reviewer_id')
      .notNull()
      .references(() => users.id),
    municipalityId: integer('municipality_id')
      .notNull()
      .references(() => municipalities.id),
    reason: text('reason').notNull(),
    declaredAt: text('declared_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.reviewerId, t.municipalityId] }), index('reviewer_conflicts_municipality').on(t.municipalityId)],
);

/** The review queue's sortable columns, each with its pair of indexes below. */
const inQueue = sql`lane IS NOT NULL`;

/**
 * The review queue (issue 16): one row per application ever submitted, kept by the engine with
 * every application event. `lane` says where it waits — `r:<reviewer id>` (`r:0`: nobody) while a
 * reviewer has to act, `a` while it is back with the applicant, none once it left the queue — so
 * that each tab is one equality on an index; the sort keys are columns, never computed per row.
 * Every index is partial (in the queue only) and ends with the id, for keyset paging.
 */
export const reviewQueue = sqliteTable(
  'review_queue',
  {
    applicationId: integer('application_id')
      .primaryKey()
      .references(() => applications.id),
    programmeId: integer('programme_id')
      .notNull()
      .references(() => programmes.id),
    lane: text('lane'),
    state: text('state').notNull(),
    /** The application's version: the queue's forms (take, bulk assignment) send it as their expected version. */
    version: integer('version').notNull(),
    /** The queue's order of states: submitted, under review, returned. */
    stateRank: integer('state_rank').notNull(),
    title: text('title').notNull(),
    /** Lower-cased in JavaScript (SQLite's lower() folds only ASCII): the sort keys of titles and names. */
    titleKey: text('title_key').notNull(),
    municipalityId: integer('municipality_id')
      .notNull()
      .references(() => municipalities.id),
    municipalityName: text('municipality_name').notNull(),
    municipalityKey: text('municipality_key').notNull(),
    assigneeId: integer('assignee_id').references(() => users.id),
    assigneeName: text('assignee_name').notNull().default(''),
    assigneeKey: text('assignee_key').notNull().default(''),
    firstSubmittedAt: text('first_submitted_at').notNull(),
    /** When it entered the state it waits in: its last submission, or its return for revision (from the log). */
    waitingSince: text('waiting_since').notNull(),
    /** The time the current step is due; none until deadlines exist (issue 12 sets it). */
    deadlineAt: text('deadline_at'),
    /** Its sort key: the applications without a deadline come last. */
    deadlineKey: text('deadline_key').generatedAlwaysAs(sql`coalesce(deadline_at, '~')`, { mode: 'virtual' }),
  },
  (t) => [
    index('review_queue_all_id').on(t.programmeId, t.applicationId).where(inQueue),
    index('review_queue_lane_id').on(t.programmeId, t.lane, t.applicationId).where(inQueue),
    index('review_queue_all_title').on(t.programmeId, t.titleKey, t.applicationId).where(inQueue),
    index('review_queue_lane_title').on(t.programmeId, t.lane, t.titleKey, t.applicationId).where(inQueue),
    index('review_queue_all_municipality').on(t.programmeId, t.municipalityKey, t.applicationId).where(inQueue),
    index('review_queue_lane_municipality').on(t.programmeId, t.lane, t.municipalityKey, t.applicationId).where(inQueue),
    index('review_queue_all_submitted').on(t.programmeId, t.firstSubmittedAt, t.applicationId).where(inQueue),
    index('review_queue_lane_submitted').on(t.programmeId, t.lane, t.firstSubmittedAt, t.applicationId).where(inQueue),
    index('review_queue_all_waiting').on(t.programmeId, t.waitingSince, t.applicationId).where(inQueue),
    index('review_queue_lane_waiting').on(t.programmeId, t.lane, t.waitingSince, t.applicationId).where(inQueue),
    index('review_queue_all_deadline').on(t.programmeId, t.deadlineKey, t.applicationId).where(inQueue),
    index('review_queue_lane_deadline').on(t.programmeId, t.lane, t.deadlineKey, t.applicationId).where(inQueue),
    index('review_queue_all_assignee').on(t.programmeId, t.assigneeKey, t.applicationId).where(inQueue),
    index('review_queue_lane_assignee').on(t.programmeId, t.lane, t.assigneeKey, t.applicationId).where(inQueue),
    index('review_queue_all_state').on(t.programmeId, t.stateRank, t.applicationId).where(inQueue),
    index('review_queue_lane_state').on(t.programmeId, t.lane, t.stateRank, t.applicationId).where(inQueue),
  ],
);

/** How many applications wait in each lane of each programme's queue: kept by triggers on review_queue, read by the tabs. */
export const reviewQueueCounts = sqliteTable(
  'review_queue_counts',
  {
    programmeId: integer('programme_id').notNull(),
    lane: text('lane').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.lane] })],
);

/**
 * The meeting a commission decision was taken at (issue 16): its date and place, its chair and
 * secretary, and the whole membership as it stood, so that the protocol names who was absent.
 * Written with the decision, in its transaction; final like it.
 */
export const commissionMeetings = sqliteTable('commission_meetings', {
  decisionId: integer('decision_id')
    .primaryKey()
    .references(() => commissionDecisions.id),
  /** The day of the meeting, YYYY-MM-DD; absent when the commission did not say. */
  heldOn: text('held_on'),
  place: text('place'),
  chairName: text('chair_name'),
  secretaryName: text('secretary_name'),
  /** JSON: [{id, login, name}], every commission member at the moment of the decision. */
  membership: text('membership').notNull(),
});

/**
 * The programme journal's list projection (issue 14): one row per entry stream (`journal-<id>`),
 * written by the engine with every event of the entry. Lists, filters and coverage read it.
 */
export const journalEntries = sqliteTable(
  'journal_entries',
  {
    id: integer('id').primaryKey(),
    streamId: text('stream_id')
      .notNull()
      .unique()
      .references(() => streams.id),
    programmeId: integer('programme_id')
      .notNull()
      .references(() => programmes.id),
    kind: text('kind').notNull(),
    state: text('state').notNull(),
    version: integer('version').notNull(),
    /** The municipality the entry is about (a training's attendees are in journal_entry_municipalities). */
    municipalityId: integer('municipality_id').references(() => municipalities.id),
    applicationId: integer('application_id').references(() => applications.id),
    /** The day it was held or published, YYYY-MM-DD in the programme's calendar. */
    heldOn: text('held_on').notNull(),
    participants: integer('participants').notNull().default(0),
    summary: text('summary').notNull().default(''),
    documents: integer('documents').notNull().default(0),
    supersedes: integer('supersedes'),
    supersededBy: integer('superseded_by'),
    recordedAt: text('recorded_at').notNull(),
    recordedBy: text('recorded_by').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('journal_entries_programme_kind').on(t.programmeId, t.kind, t.heldOn),
    index('journal_entries_programme_municipality').on(t.programmeId, t.municipalityId),
    index('journal_entries_application').on(t.applicationId),
  ],
);

/** Every municipality an entry covers: a training's attendees, a meeting's or consultation's municipality. */
export const journalEntryMunicipalities = sqliteTable(
  'journal_entry_municipalities',
  {
    entryId: integer('entry_id')
      .notNull()
      .references(() => journalEntries.id),
    municipalityId: integer('municipality_id')
      .notNull()
      .references(() => municipalities.id),
  },
  (t) => [primaryKey({ columns: [t.entryId, t.municipalityId] }), index('journal_entry_municipalities_municipality').on(t.municipalityId)],
);

/**
 * Every notification of every user (issue 12): the inbox and the mail outbox in one row, written
 * in the transaction of the event that causes it, so that there is no event without its
 * notifications and no notification without its event. A reminder of a deadline has no event:
 * its key says what it reminds of, and the key makes every writer idempotent.
 */
export const notifications = sqliteTable(
  'notifications',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind').notNull(),
    /** The global position of the event that caused it (no foreign key: the log's own checks judge the log). */
    eventPosition: integer('event_position'),
    /** Unique per user: `event:<position>:<kind>`, `reminder:…`, `result:<programme>:<application>`. */
    dedupeKey: text('dedupe_key').notNull(),
    programmeId: integer('programme_id'),
    applicationId: integer('application_id'),
    /** JSON of codes and values the texts are made of, in the reader's language when read. */
    params: text('params').notNull(),
    /** The path of the page it is about. */
    link: text('link').notNull(),
    createdAt: text('created_at').notNull(),
    readAt: text('read_at'),
    /** none (inbox only) | pending | sending | sent | failed. */
    mailState: text('mail_state').notNull().default('none'),
    mailTo: text('mail_to'),
    /** The Message-ID its e-mail carries, fixed when it is written: a resend is recognisably the same message. */
    messageId: text('message_id'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at'),
    claimedAt: text('claimed_at'),
    lastError: text('last_error'),
    sentAt: text('sent_at'),
  },
  (t) => [
    uniqueIndex('notifications_user_key').on(t.userId, t.dedupeKey),
    index('notifications_inbox').on(t.userId, t.readAt, t.id),
    index('notifications_outbox').on(t.mailState, t.nextAttemptAt),
    // The outbox's failed list, newest first (migrations/0020).
    index('notifications_state_id').on(t.mailState, t.id),
    index('notifications_read').on(t.userId, t.id).where(sql`read_at IS NOT NULL`),
    index('notifications_programme_kind').on(t.programmeId, t.kind),
  ],
);

/** Which kinds of notification a user wants by e-mail; a kind without a row takes its default. */
export const notificationPreferences = sqliteTable(
  'notification_preferences',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    kind: text('kind').notNull(),
    email: integer('email', { mode: 'boolean' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.kind] })],
);

/** How long a review may take and an applicant has to answer a return, per programme (issue 12); set by an admin. */
export const programmeDeadlines = sqliteTable('programme_deadlines', {
  programmeId: integer('programme_id')
    .primaryKey()
    .references(() => programmes.id),
  reviewDays: integer('review_days').notNull(),
  answerDays: integer('answer_days').notNull(),
  /** How many days before a deadline its reminder goes out. */
  remindDays: integer('remind_days').notNull(),
  updatedAt: text('updated_at').notNull(),
  updatedBy: text('updated_by'),
});

/**
 * The clock running on an application, projected with its events: the review's from its
 * submission, the applicant's answer from a return. None once it is decided.
 */
export const applicationClocks = sqliteTable(
  'application_clocks',
  {
    applicationId: integer('application_id')
      .primaryKey()
      .references(() => applications.id),
    programmeId: integer('programme_id').notNull(),
    /** review | answer. */
    kind: text('kind').notNull(),
    startedAt: text('started_at').notNull(),
    /** When the scheduler sent the reminder before the deadline, and the notice after it: each once per clock. */
    remindedAt: text('reminded_at'),
    overdueAt: text('overdue_at'),
  },
  (t) => [index('application_clocks_programme').on(t.programmeId, t.kind)],
);

/** The results sent to a programme's participants after the commission's decision (stage 7, issue 12). */
export const informingRounds = sqliteTable('informing_rounds', {
  programmeId: integer('programme_id')
    .primaryKey()
    .references(() => programmes.id),
  sentAt: text('sent_at').notNull(),
  /** JSON of the coordinator who sent them: the stage event that ticks the task is written in their name. */
  sentBy: text('sent_by').notNull(),
});

/**
 * Where verification last found each stream sound (issue 17): its length, the hash of its last
 * event then, and the snapshot replay reached there. An incremental verify replays a stream only
 * from here on, after checking that its event at `length` still carries `head_hash`; a full verify
 * trusts none of this. The global checks (order, sequence, head) always run over the whole log.
 */
export const verifyCheckpoints = sqliteTable('verify_checkpoints', {
  streamId: text('stream_id').primaryKey(),
  length: integer('length').notNull(),
  headHash: text('head_hash').notNull(),
  machineId: text('machine_id').notNull(),
  machineVersion: integer('machine_version').notNull(),
  snapshot: text('snapshot').notNull(),
  verifiedAt: text('verified_at').notNull(),
});

/**
 * The security log (issue 17.2, ASVS 7.x): every change to a user — created, role or municipality
 * changed, password set or reset, sessions revoked, deactivated, activated — appended in the
 * change's transaction, hash-chained like the events and append-only by trigger (migration 0018).
 * Verify checks its chain and that the users table is what the log folds to.
 */
export const securityLog = sqliteTable('security_log', {
  position: integer('position').primaryKey({ autoIncrement: true }),
  at: text('at').notNull(),
  /** Who did it (canonical JSON: id, login, role), or "system" for the command line and the seed. */
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  /** The user it is about, by id. */
  subject: text('subject').notNull(),
  /** What changed, canonical JSON. */
  details: text('details').notNull(),
  /** How many events the ledger held then: where the entry falls among the events. */
  ledgerPosition: integer('ledger_position').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/**
 * The settings log (issue 17.2): every change to what a programme is set to — the programme's own
 * row, its commission settings (criteria, quorum), its deadlines, the documents it requires —
 * entered whole (the row's checked columns) in the change's transaction, hash-chained and
 * append-only like the security log. Verify re-derives those tables from it, and the documents an
 * event's facts say were required from it at the event's position.
 */
export const settingsLog = sqliteTable('settings_log', {
  position: integer('position').primaryKey({ autoIncrement: true }),
  at: text('at').notNull(),
  actor: text('actor').notNull(),
  /** `set` (the row as it now is) or `remove`; `recorded` for a row that predates the log. */
  action: text('action').notNull(),
  /** The table and the row's key: `document_requirements:3/any/estimate`. */
  subject: text('subject').notNull(),
  details: text('details').notNull(),
  ledgerPosition: integer('ledger_position').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/**
 * What the public portal publishes of a programme beyond its facts (issue 15): the kinds of an
 * application's documents anyone may open once the reviewer accepted them. No row: the defaults
 * (src/workflows/programme/public-settings.ts). Set by an admin through the engine's transaction.
 */
export const programmePublicSettings = sqliteTable('programme_public_settings', {
  programmeId: integer('programme_id')
    .primaryKey()
    .references(() => programmes.id),
  /** JSON: the document kinds, e.g. ["object-photos","media-publications"]. */
  documentKinds: text('document_kinds').notNull(),
  updatedAt: text('updated_at').notNull(),
  updatedBy: text('updated_by'),
});
