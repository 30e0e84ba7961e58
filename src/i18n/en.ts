import type { ru } from './ru.ts';
import { core } from './en/core.ts';
import { stages } from './en/stages.ts';
import { admin } from './en/admin.ts';
import { audit } from './en/audit.ts';
import { commission } from './en/commission.ts';
import { documents } from './en/documents.ts';
import { programmeCreate } from './en/programme-create.ts';
import { review } from './en/review.ts';
import { forms } from './en/forms.ts';
import { journal } from './en/journal.ts';
import { communications } from './en/communications.ts';
import { register } from './en/register.ts';
import { dashboard } from './en/dashboard.ts';
import { implementation } from './en/implementation.ts';
import { publicPortal } from './en/public.ts';
import { report } from './en/report.ts';

/** The English catalogue: every key of the Russian one (the type checks it), same placeholders. */
export const en: Record<keyof typeof ru, string> = { ...core, ...stages, ...admin, ...audit, ...commission, ...documents, ...programmeCreate, ...review, ...forms, ...journal, ...communications, ...register, ...implementation, ...dashboard, ...report, ...publicPortal };
