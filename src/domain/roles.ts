export const roles = ['applicant', 'reviewer', 'coordinator', 'commission', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who sends an event: stored with it, so that guards and replay see the same facts. */
export interface Actor {
  id: number;
  login: string;
  name: string;
  role: Role;
  municipalityId: number | null;
}
