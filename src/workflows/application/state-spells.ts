import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import type { EventListener } from '../../engine/engine.ts';
import { applicationMachineId, type ApplicationContext } from '../../../machines/application.ts';

/** Milliseconds between two stored ISO times, in SQL: the same expression as the backfill (migrations/0016). */
const ELAPSED_MS = 'CAST(round((julianday(@at) - julianday(entered_at)) * 86400000) AS INTEGER)';

const spellStatements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    close: sqlite.prepare<[{ applicationId: number; at: string }]>(
      `UPDATE application_state_spells SET left_at = @at, duration_ms = ${ELAPSED_MS} WHERE application_id = @applicationId AND left_at IS NULL`,
    ),
    open: sqlite.prepare<[{ applicationId: number; seq: number; programmeId: number; state: string; at: string }]>(
      'INSERT INTO application_state_spells (application_id, seq, programme_id, state, entered_at) VALUES (@applicationId, @seq, @programmeId, @state, @at)',
    ),
  };
});

/**
 * Keeps `application_state_spells` with every application event, in its transaction (issue 13):
 * an event that changes the state (`from_state` ≠ `to_state`, the creation included) ends the
 * running stay at its `at` and begins the next one. Events that keep the state change nothing.
 */
export function stateSpellListener(db: Db): EventListener {
  return (stream, snapshot, event) => {
    if (event.machineId !== applicationMachineId || event.fromState === event.toState) return;
    const applicationId = Number(stream.id.slice('application-'.length));
    const statements = spellStatements(db);
    statements.close.run({ applicationId, at: event.at });
    statements.open.run({ applicationId, seq: event.seq, programmeId: (snapshot.context as ApplicationContext).programmeId, state: event.toState, at: event.at });
  };
}
