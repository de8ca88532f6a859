"""What the workload's clients know of the world they write to, shared by its worker threads.

The clients choose their next write from it (a like for a video the fan does not like yet,
a publish for a draft), so every op means what the checker assumes: a like changes the
state, a channel is followed once, a draft is published once. A pair whose last op ended
indeterminate is left alone from then on: its state is unknown to the client.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Literal

from scripts.chaos.client import Account
from scripts.chaos.history import Op

VideoState = Literal["draft", "published", "unsure", "kept-draft"]


@dataclass(kw_only=True)
class Video:
    """A video the workload created: its owner, title and what it knows of its state."""

    video_id: str
    owner: str
    title: str
    version: int
    state: VideoState = "draft"


@dataclass(kw_only=True)
class Model:
    """The shared state; hold `lock` to read or change it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accounts: list[Account] = field(default_factory=list)  # signed in, so they can act
    videos: dict[str, Video] = field(default_factory=dict)
    followed: set[tuple[str, str]] = field(default_factory=set)  # (fan, channel), answered or not
    liked: dict[tuple[str, str], bool] = field(default_factory=dict)  # (fan, video) -> likes it now
    unsure: set[tuple[str, str]] = field(default_factory=set)  # (fan, video) whose last op is unknown
    busy: set[str] = field(default_factory=set)  # videos and pairs with a write in flight
    comments: list[Op] = field(default_factory=list)  # acknowledged comments with a request_id

    def claim(self, key: str) -> bool:
        """Mark `key` busy; False if it already was (call with the lock held)."""
        if key in self.busy:
            return False
        self.busy.add(key)
        return True

    def release(self, key: str) -> None:
        """The write on `key` is done."""
        with self.lock:
            self.busy.discard(key)

    def pick_videos(self, rng: random.Random, *states: VideoState) -> Video | None:
        """A random video in one of these states (call with the lock held)."""
        found = [video for video in self.videos.values() if video.state in states]
        return rng.choice(found) if found else None

    def pick_account(self, rng: random.Random, other_than: str = "") -> Account | None:
        """A random signed-in account, not `other_than` (call with the lock held)."""
        found = [account for account in self.accounts if account.user_id != other_than]
        return rng.choice(found) if found else None

    def unfollowed_pairs(self) -> list[tuple[Account, Account]]:
        """(fan, channel) pairs not followed yet (call with the lock held)."""
        return [(fan, channel) for fan in self.accounts for channel in self.accounts
                if fan.user_id != channel.user_id and (fan.user_id, channel.user_id) not in self.followed]

    def account(self, user_id: str) -> Account:
        """The account with this id (call with the lock held)."""
        return next(account for account in self.accounts if account.user_id == user_id)
