"""Star clustering: every work is a star around its canonical copy, never a chain.

Pure functions over contents (:class:`Node`) and the pairs that passed the join
rule (edges, with their shared shingles). Contents are taken in canonical
order: not partial, then longest, then fewest masks, then earliest seen. A
content becomes a centre (a work's canonical copy) unless a centre earlier in
that order is linked to it; every other content joins the linked centre that
contains the most of it. So A~B and B~C never pull C into A's work when A≁C:
C joins only a centre it is linked to itself (greedy star clustering).

The result depends only on the nodes and edges of one connected component, so
matching new contents re-runs this on the components they touch and gets what
a full rebuild would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CANONICAL = "canonical"
FULL_COPY = "full copy"
PARTIAL_COPY = "partial copy"
VARIANT = "variant"
ROLES = (CANONICAL, FULL_COPY, PARTIAL_COPY, VARIANT)


@dataclass(frozen=True)
class Node:
    id: int
    hash: str
    shingles: int
    length: int
    masks: int
    partial: bool
    first_seen: dt.datetime

    def preference(self) -> tuple[bool, int, int, dt.datetime, str]:
        """Sort key of canonical choice: complete first, then longest, fewest masks, earliest."""
        return (self.partial, -self.length, self.masks, self.first_seen, self.hash)


@dataclass(frozen=True)
class Member:
    node: Node
    role: str
    containment: float
    """Share of the member's shingles found in the canonical."""
    similarity: float
    """Jaccard similarity with the canonical."""


@dataclass(frozen=True)
class Star:
    canonical: Node
    members: tuple[Member, ...]
    """The canonical first, then the others in canonical order."""

    @property
    def work_id(self) -> str:
        """The stable id: the content hash of the earliest member."""
        return min(self.members, key=lambda m: (m.node.first_seen, m.node.hash)).node.hash


def edge_map(pairs: Iterable[tuple[int, int, int]]) -> dict[tuple[int, int], int]:
    """Edges keyed by (smaller id, larger id) from (a, b, shared) rows."""
    return {(min(a, b), max(a, b)): shared for a, b, shared in pairs}


def _score(a: Node, b: Node, shared: int) -> float:
    """Containment of the smaller text in the larger one."""
    return shared / max(1, min(a.shingles, b.shingles))


def role_of(member: Node, canonical: Node, shared: int, *, join: float, full: float) -> tuple[str, float, float]:
    """(role, containment in the canonical, Jaccard) of a member linked to its canonical."""
    containment = shared / max(1, member.shingles)
    coverage = shared / max(1, canonical.shingles)
    similarity = shared / max(1, member.shingles + canonical.shingles - shared)
    if member.partial or coverage < join:
        return PARTIAL_COPY, containment, similarity
    if containment >= full and coverage >= full:
        return FULL_COPY, containment, similarity
    return VARIANT, containment, similarity


def stars(nodes: Mapping[int, Node], edges: Mapping[tuple[int, int], int], *, join: float, full: float) -> list[Star]:
    """The works of some contents: greedy star clustering in canonical order."""
    neighbours: dict[int, list[tuple[int, int]]] = {n: [] for n in nodes}
    for (a, b), shared in edges.items():
        if a in nodes and b in nodes:
            neighbours[a].append((b, shared))
            neighbours[b].append((a, shared))
    order = sorted(nodes.values(), key=Node.preference)
    rank = {node.id: i for i, node in enumerate(order)}
    centres: set[int] = set()
    for node in order:
        if not any(other in centres for other, _ in neighbours[node.id]):
            centres.add(node.id)
    attached: dict[int, list[tuple[Node, int]]] = {c: [] for c in centres}
    for node in order:
        if node.id in centres:
            continue
        linked = [(other, shared) for other, shared in neighbours[node.id] if other in centres]
        best, shared = max(linked, key=lambda item: (_score(node, nodes[item[0]], item[1]), -rank[item[0]]))
        attached[best].append((node, shared))
    out: list[Star] = []
    for centre_id in sorted(centres, key=rank.__getitem__):
        centre = nodes[centre_id]
        members = [Member(centre, CANONICAL, 1.0, 1.0)]
        for node, shared in attached[centre_id]:
            role, containment, similarity = role_of(node, centre, shared, join=join, full=full)
            members.append(Member(node, role, round(containment, 4), round(similarity, 4)))
        out.append(Star(centre, tuple(members)))
    return out
