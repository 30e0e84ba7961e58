import type { Translate } from '../i18n/index.ts';
import type { ProgrammeRow } from '../workflows/programme/reads.ts';
import { localToday } from '../workflows/stage/overview.ts';
import { renderTimeline, type TimelineStage } from './charts/timeline.ts';

/** What each stage holds now, in words: "Подана 9 · На проверке 5". */
export function holdsText(t: Translate, holdsStates: readonly string[], counts: Record<string, number>): string {
  return holdsStates
    .map((state) => ({ state, count: counts[state] ?? 0 }))
    .filter((h) => h.count > 0)
    .map((h) => `${t(`state.${h.state}`)} ${h.count}`)
    .join(' · ');
}

/** The programme's timeline SVG with its labels in the page's language: the programme page and the dashboard draw the same one. */
export function programmeTimeline(t: Translate, programme: Pick<ProgrammeRow, 'title' | 'timeZone'>, stages: Omit<TimelineStage, 'stateLabel'>[], now: Date): string {
  return renderTimeline(
    stages.map((stage) => ({ ...stage, stateLabel: t(`state.${stage.state}`) })),
    now,
    {
      title: t('programme.timelineTitle', { title: programme.title }),
      description: t('programme.timelineDesc'),
      today: `${t('programme.today')} ${localToday(programme.timeZone, now)}`,
      overdue: t('programme.overdue'),
      planned: t('programme.planned'),
      actual: t('programme.actual'),
      monthNames: t('programme.months').split(','),
    },
  );
}
