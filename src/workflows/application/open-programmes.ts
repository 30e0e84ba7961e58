import type { Actor } from '../../domain/roles.ts';
import type { Engine } from '../../engine/engine.ts';
import { applicationMachineId } from '../../../machines/application.ts';
import { listProgrammes, type ProgrammeRow } from '../programme/reads.ts';
import { stageReads } from '../stage/reads.ts';

/**
 * The programmes a new application may be opened in now (issue 16): those whose stages owning
 * `create` are running, as the machine's own `whyNotCreate` decides it; a finished programme is
 * never offered.
 */
export function programmesOpenForApplications(engine: Engine, actor: Actor): ProgrammeRow[] {
  const entry = engine.registry.latest(applicationMachineId);
  const stages = stageReads(engine.db);
  return listProgrammes(engine.db).filter((programme) => (entry.whyNotCreate?.({ programmeId: programme.id }, { activeStages: stages.activeStageKeys(programme.id) }, actor) ?? []).length === 0);
}
