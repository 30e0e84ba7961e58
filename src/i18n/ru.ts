import { core } from './ru/core.ts';
import { stages } from './ru/stages.ts';
import { admin } from './ru/admin.ts';
import { audit } from './ru/audit.ts';
import { commission } from './ru/commission.ts';
import { documents } from './ru/documents.ts';
import { programmeCreate } from './ru/programme-create.ts';
import { review } from './ru/review.ts';
import { forms } from './ru/forms.ts';
import { journal } from './ru/journal.ts';
import { communications } from './ru/communications.ts';
import { register } from './ru/register.ts';
import { dashboard } from './ru/dashboard.ts';
import { implementation } from './ru/implementation.ts';
import { report } from './ru/report.ts';
import { publicPortal } from './ru/public.ts';

/**
 * The Russian catalogue, the product's default language. Each area keeps its own file under
 * ru/ and en/, so that the people working on different areas do not edit the same file.
 */
export const ru = { ...core, ...stages, ...admin, ...audit, ...commission, ...documents, ...programmeCreate, ...review, ...forms, ...journal, ...communications, ...register, ...implementation, ...dashboard, ...report, ...publicPortal } as const;
