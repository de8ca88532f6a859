"""The history indexed the way the checker asks about it: who registered with which address,
whose videos are which, and the ops on each video, channel and (user, video) pair."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scripts.chaos.history import Op

VIDEO_OPS = ("publish", "like", "unlike", "comment", "view")


@dataclass(kw_only=True)
class Facts:
    """What the history says, by entity."""

    ops: list[Op]
    emails: dict[str, str] = field(default_factory=dict)  # user id -> address (registrations that answered)
    registrations: dict[str, list[Op]] = field(default_factory=lambda: defaultdict(list))  # address -> ops
    creates: list[Op] = field(default_factory=list)
    owner_of: dict[str, str] = field(default_factory=dict)  # video id -> owner (creates that answered)
    title_of: dict[str, str] = field(default_factory=dict)
    on_video: dict[str, list[Op]] = field(default_factory=lambda: defaultdict(list))  # publish, like, comment...
    follows: dict[str, list[Op]] = field(default_factory=lambda: defaultdict(list))  # channel -> follow ops
    mark_reads: list[Op] = field(default_factory=list)

    @staticmethod
    def of(ops: list[Op]) -> Facts:
        """Index a history (in the order it was recorded)."""
        facts = Facts(ops=ops)
        for op in ops:
            facts._add(op)
        return facts

    def _add(self, op: Op) -> None:
        if op.kind == "register":
            self.registrations[op.body["email"]].append(op)
            if op.outcome == "ok":
                self.emails[op.answer["userId"]] = op.body["email"]
        elif op.kind == "create":
            self.creates.append(op)
            if op.outcome == "ok":
                self.owner_of[op.answer["videoId"]] = op.actor
                self.title_of[op.answer["videoId"]] = op.body["title"]
        elif op.kind in VIDEO_OPS:
            self.on_video[op.target].append(op)
        elif op.kind == "follow":
            self.follows[op.target].append(op)
        elif op.kind == "mark_read":
            self.mark_reads.append(op)

    def of_kind(self, video_id: str, *kinds: str) -> list[Op]:
        """The ops of these kinds on one video, in order."""
        return [op for op in self.on_video.get(video_id, []) if op.kind in kinds]

    def likers(self, video_id: str) -> dict[str, set[bool]]:
        """Per fan, whether they may like the video now: {True}, {False} or, after an op with
        an unknown outcome, both."""
        states: dict[str, set[bool]] = {}
        for op in self.of_kind(video_id, "like", "unlike"):
            now, after = states.get(op.actor, {False}), op.kind == "like"
            if op.outcome == "ok":
                states[op.actor] = {after}
            elif op.outcome == "indeterminate":
                states[op.actor] = now | {after}
        return states

    def users(self) -> list[str]:
        """Every user that registered and got an answer."""
        return list(self.emails)

    def follow_of(self, fan: str, channel: str) -> Op | None:
        """The follow op of `fan` for `channel` (the workload follows a channel once)."""
        return next((op for op in self.follows.get(channel, []) if op.actor == fan), None)


def bounds(ops: list[Op]) -> tuple[int, int]:
    """How many of these ops may have applied: (the ok ones, plus the indeterminate ones)."""
    ok = sum(op.outcome == "ok" for op in ops)
    return ok, ok + sum(op.outcome == "indeterminate" for op in ops)


def replayed(ops: list[Op]) -> bool:
    """Did one of these ops answer ok after an attempt that may have applied?"""
    return any(op.uncertain_once for op in ops)
