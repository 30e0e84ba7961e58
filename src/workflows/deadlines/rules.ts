import { z } from 'zod';

/**
 * The deadlines of a programme (issue 12): how long a review may take from a submission, how long
 * an applicant has to answer a return, and how many days before either the reminder goes out.
 * Pure: the clock, the settings and the moment come in, the time left and what is due go out.
 */

export const deadlineSettingsSchema = z.strictObject({
  reviewDays: z.number().int().min(1).max(365),
  answerDays: z.number().int().min(1).max(365),
  remindDays: z.number().int().min(0).max(60),
});
export type DeadlineSettings = z.infer<typeof deadlineSettingsSchema>;

/** What a programme has until an admin sets its own: the methodology's usual ten and fourteen days. */
export const defaultDeadlines: DeadlineSettings = { reviewDays: 10, answerDays: 14, remindDays: 2 };

export type ClockKind = 'review' | 'answer';

const DAY = 24 * 60 * 60 * 1000;

/** Which clock an application event starts (a submission: the review's; a return: the answer's), stops (a decision) or leaves. */
export function clockAfter(type: string): ClockKind | 'stop' | 'keep' {
  if (type === 'submit') return 'review';
  if (type === 'return-for-revision') return 'answer';
  if (type === 'accept' || type === 'reject' || type === 'withdraw') return 'stop';
  return 'keep';
}

export interface Deadline {
  kind: ClockKind;
  dueAt: string;
  /** Whole days left, rounded up; negative when overdue. */
  daysLeft: number;
  overdue: boolean;
  /** Within the reminder's window before the deadline. */
  soon: boolean;
}

export function deadlineOf(kind: ClockKind, startedAt: string, settings: DeadlineSettings, now: Date): Deadline {
  const days = kind === 'review' ? settings.reviewDays : settings.answerDays;
  const due = Date.parse(startedAt) + days * DAY;
  const left = due - now.getTime();
  const daysLeft = left >= 0 ? Math.ceil(left / DAY) : -Math.ceil(-left / DAY);
  return { kind, dueAt: new Date(due).toISOString(), daysLeft, overdue: left < 0, soon: left >= 0 && left <= settings.remindDays * DAY };
}
