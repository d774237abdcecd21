import type { SignedIn } from "../../api/auth";

/** The access roles /auth/me reports (team managers follow from the teams, not from here). */
const has = (me: SignedIn, ...roles: string[]) => me.roles.some((role) => roles.includes(role));

/** Sees every campaign, member and report (admins, planners, auditors). */
export const seesAll = (me: SignedIn) => has(me, "admin", "planner", "auditor");
/** Exports the archive (report.export). */
export const canExport = (me: SignedIn) => has(me, "admin", "planner", "auditor");
/** Defines or imports playbooks (playbook.define). */
export const canDefinePlaybooks = (me: SignedIn) => has(me, "admin", "planner");
/** Plans and reschedules campaigns (managers may for their team: the server decides). */
export const canPlan = (me: SignedIn) => has(me, "admin", "planner");
/** Reads a member's activity and directory history (admins, auditors, the member). */
export const canAuditMember = (me: SignedIn, memberId: string) =>
  me.member_id === memberId || has(me, "admin", "auditor");
