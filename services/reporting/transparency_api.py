"""Reporting's tamper-evidence HTTP API: signed tree heads, inclusion and consistency
proofs of the archive's Merkle tree (``transparency.py``). Each route names its action in
the access policy (``policy.py``); the use cases check it."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.transparency import INTERVAL_VARIABLE, MerkleView, Transparency
from shared.application import ServiceApplication
from shared.auth import current_caller
from shared.policy import Caller, action

log = logging.getLogger(__name__)

Actor = Annotated[Caller, Depends(current_caller)]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TreeHeadOut(_Out):
    """A signed tree head (RFC 9162 style) over the archive's first ``tree_size`` events
    in arrival order. Signed bytes: ``marketflow-tree-head-v1\\0`` || tree_size (u64
    big-endian) || timestamp (u64 big-endian) || root hash (32 bytes); Ed25519."""

    tree_size: int = Field(ge=0)
    root_hash: str = Field(description="base64 SHA-256 Merkle tree hash")
    timestamp: int = Field(description="milliseconds since the Unix epoch")
    signature: str = Field(description="base64 Ed25519 signature of the signed bytes")
    key_id: str = Field(description="base64 SHA-256 of the public key's DER encoding")


class PublicKeyOut(_Out):
    """The key tree heads are verified with."""

    key_id: str
    algorithm: str = "Ed25519"
    public_key_pem: str


class InclusionProofOut(_Out):
    """The audit path of one archived event's leaf in the tree of ``tree_size`` leaves
    (RFC 9162 §2.1.3); leaf hash = SHA-256(0x00 || canonical bytes of the event)."""

    event_id: str
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    leaf_hash: str = Field(description="base64")
    audit_path: list[str] = Field(description="base64 node hashes, leaf to root")


class ConsistencyProofOut(_Out):
    """Proof that the tree of ``first`` leaves is a prefix of the tree of ``second``
    (RFC 9162 §2.1.4)."""

    first: int = Field(ge=0)
    second: int = Field(ge=0)
    consistency_path: list[str] = Field(description="base64 node hashes")


def build_transparency_router(transparency: Transparency) -> APIRouter:
    router = APIRouter()

    @router.get("/audit/tree-head", tags=["audit"],
                openapi_extra=action("audit.tree_head.read"))
    def tree_head(caller: Actor) -> TreeHeadOut:
        """A tree head over everything archived, signed now (saved when it covers events
        no saved head did)."""
        return TreeHeadOut(**transparency.tree_head_for(caller).as_json())

    @router.get("/audit/public-key", tags=["audit"],
                openapi_extra=action("audit.tree_head.read"))
    def public_key(caller: Actor) -> PublicKeyOut:
        """The Ed25519 public key that verifies the tree heads."""
        key_id, pem = transparency.public_key_for(caller)
        return PublicKeyOut(key_id=key_id, public_key_pem=pem)

    @router.get("/audit/proofs/inclusion", tags=["audit"],
                openapi_extra=action("audit.proof.read"),
                responses={404: {"description": "no archived event has this id"}})
    def inclusion_proof(
            caller: Actor,
            event_id: Annotated[str, Query(min_length=1, max_length=256,
                                           description="the archived event's CloudEvents id")],
            tree_size: Annotated[int | None, Query(
                ge=1, description="the tree head's size; the current tree when omitted")
            ] = None) -> InclusionProofOut:
        """The audit path proving the event is in the tree of ``tree_size`` leaves."""
        proof = transparency.inclusion_for(caller, event_id, tree_size)
        return InclusionProofOut(**vars(proof))

    @router.get("/audit/proofs/consistency", tags=["audit"],
                openapi_extra=action("audit.proof.read"))
    def consistency_proof(
            caller: Actor,
            first: Annotated[int, Query(ge=0, description="the older tree head's size")],
            second: Annotated[int | None, Query(
                ge=1, description="the newer tree head's size; the current tree when "
                "omitted")] = None) -> ConsistencyProofOut:
        """The proof that the older tree is a prefix of the newer one."""
        proof = transparency.consistency_for(caller, first, second)
        return ConsistencyProofOut(**vars(proof))

    return router


def tree_head_publisher(transparency: Transparency, minutes: float | None = None
                        ) -> Callable[[], Coroutine[Any, Any, None]]:
    """Saves (and logs) a signed tree head every ``minutes`` (``MARKETFLOW_AUDIT_TREE_HEAD
    _MINUTES``, 60 by default), first once the service has started."""
    interval = 60 * (minutes if minutes is not None else float(
        os.environ.get(INTERVAL_VARIABLE) or 60))

    async def publish_tree_heads() -> None:
        while True:
            try:
                await asyncio.to_thread(transparency.publish)
            except Exception:
                log.exception("could not publish an audit tree head; retrying next time")
            await asyncio.sleep(interval)

    return publish_tree_heads


@dataclass(frozen=True)
class TamperEvidence:
    """What the wiring adds to reporting: the tree's read model, its router and job."""

    view: MerkleView
    transparency: Transparency
    router: APIRouter
    publisher: Callable[[], Coroutine[Any, Any, None]]


def tamper_evidence(app: ServiceApplication) -> TamperEvidence:
    view = MerkleView(app)
    transparency = Transparency(app, view)
    return TamperEvidence(view, transparency, build_transparency_router(transparency),
                          tree_head_publisher(transparency))
