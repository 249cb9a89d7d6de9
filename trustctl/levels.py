"""The autonomy ladder: observe < suggest < auto_notify < full."""

from __future__ import annotations

from enum import Enum
from typing import Literal

__all__ = ["LADDER", "LEVEL_SPELLINGS", "Change", "Level", "lowest"]


class Level(str, Enum):
    """An autonomy level; the order of the members is the order of the ladder."""

    OBSERVE = "observe"
    SUGGEST = "suggest"
    AUTO_NOTIFY = "auto_notify"
    FULL = "full"

    @property
    def rank(self) -> int:
        """Position on the ladder, 0 for ``observe``."""
        return LADDER.index(self)

    def above(self) -> Level | None:
        """The next level up, or ``None`` at ``full``."""
        return LADDER[self.rank + 1] if self.rank + 1 < len(LADDER) else None

    def below(self) -> Level | None:
        """The next level down, or ``None`` at ``observe``."""
        return LADDER[self.rank - 1] if self.rank > 0 else None


LADDER: tuple[Level, ...] = tuple(Level)

#: Spellings accepted in logs, mapped to the level they name.
LEVEL_SPELLINGS: dict[str, Level] = {
    **{level.value: level for level in Level},
    "auto-notify": Level.AUTO_NOTIFY,
}


def lowest(*levels: Level) -> Level:
    """The strictest (lowest) of the given levels."""
    return min(levels, key=lambda level: level.rank)


Change = Literal["promoted", "demoted", "unchanged", "new", "proposed"]
"""How a group's level moved in a run (``new``: absent from the previous policy)."""
