import type { Db } from '../../db/client.ts';
import { recordSetting } from '../../engine/settings-log.ts';
import { commissionSettings } from '../../db/schema.ts';
import { commissionSettingsSchema, defaultCommissionSettings, type CommissionSettings } from '../../domain/criteria.ts';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine } from '../../engine/engine.ts';
import { refusal } from '../../engine/engine.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { canonicalJson } from '../../engine/ledger.ts';
import { commissionReads } from './reads.ts';
import { whyNotChangeSettings } from './rules.ts';

/** Stores the default criteria with a new programme, so that a later change of the defaults does not reach it. */
export function installDefaultCommissionSettings(db: Db, programmeId: number, at: string): void {
  db.insert(commissionSettings)
    .values({
      programmeId,
      criteria: canonicalJson(defaultCommissionSettings.criteria),
      quorum: defaultCommissionSettings.quorum,
      partialAward: defaultCommissionSettings.partialAward,
      updatedAt: at,
      updatedBy: null,
    })
    .onConflictDoNothing()
    .run();
}

/** The criteria, weights, quorum and partial option may change only while stage 7 is still planned. Admins only. */
export function saveCommissionSettings(engine: Engine, actor: Actor, programmeId: number, input: unknown): CommissionSettings {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin sets the criteria');
  const parsed = commissionSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the criteria are invalid', zodProblems(parsed.error));
  const reads = commissionReads(engine.db);
  return engine.transaction(() => {
    if (!reads.programme(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
    const problems = whyNotChangeSettings(reads.commissionStageState(programmeId));
    if (problems.length > 0) throw refusal('save-criteria', problems);
    const at = engine.now().toISOString();
    const values = {
      criteria: canonicalJson(parsed.data.criteria),
      quorum: parsed.data.quorum,
      partialAward: parsed.data.partialAward,
      updatedAt: at,
      updatedBy: canonicalJson({ id: actor.id, login: actor.login, name: actor.name }),
    };
    engine.db
      .insert(commissionSettings)
      .values({ programmeId, ...values })
      .onConflictDoUpdate({ target: commissionSettings.programmeId, set: values })
      .run();
    recordSetting(engine.db.$client, 'commission_settings', programmeId, at, actor);
    return parsed.data;
  });
}

