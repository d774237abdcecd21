"""Approval chains: the ordered steps a submission passes, and who may act on a step.

Values only; the rules that change state live on ``Task``.
"""

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field


class ApprovalStep(BaseModel):
    """One step: any member holding ``role``, or exactly ``member_id``; N approvals."""

    model_config = ConfigDict(frozen=True)

    role: str | None = None
    member_id: str | None = None
    required_approvals: int = Field(default=1, ge=1)

    def label(self) -> str:
        return f"role '{self.role}'" if self.role else f"member {self.member_id}"


class Submission(BaseModel):
    """A versioned submission of the deliverable: a reference to it and a note."""

    model_config = ConfigDict(frozen=True)

    version: int
    reference: str
    note: str
    submitted_by: str


def delegate_of(member_id: str, delegations: Mapping[str, str | None]) -> str | None:
    """Who acts for ``member_id`` now (following chains of delegation), or None if the
    member's approvals went back to the pool without a named backup."""
    seen = {member_id}
    current: str | None = member_id
    while current is not None and current in delegations:
        current = delegations[current]
        if current in seen:  # a cycle of backups: the last one keeps it
            break
        if current is not None:
            seen.add(current)
    return current


def eligible_approvers(step: ApprovalStep, role_members: Mapping[str, Sequence[str]],
                       delegations: Mapping[str, str | None]) -> set[str]:
    """Members who may approve ``step``: its member, or its role's members, each replaced
    by their delegate when they are away."""
    base = [step.member_id] if step.member_id else list(role_members.get(step.role or "", []))
    return {who for who in (delegate_of(member, delegations) for member in base) if who}
