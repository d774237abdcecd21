"""What planning accepts as a person's text (names, titles, reasons): not blank, and no
control characters (NUL and friends break feeds, logs and other systems' parsers).
Checked when a command is given, never on stored models, so old data still loads."""

from __future__ import annotations

import datetime as dt
import unicodedata

from shared.domain import InvalidCommand

# Dates a plan may use: wide enough for any real campaign, narrow enough that working-day
# arithmetic never leaves the calendar (0001-01-02 overflowed).
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


def check_text(field: str, value: str, *, multiline: bool = False) -> str:
    """The text stripped, or ``InvalidCommand`` naming the field."""
    allowed = "\n\t\r" if multiline else ""
    for position, character in enumerate(value):
        if unicodedata.category(character) in ("Cc", "Cs") and character not in allowed:
            raise InvalidCommand(f"{field}: control character U+{ord(character):04X} at "
                                 f"position {position}; use printable text")
    stripped = value.strip()
    if not stripped and not multiline:
        raise InvalidCommand(f"{field}: must not be blank")
    return stripped


def check_date(field: str, day: dt.date) -> dt.date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidCommand(f"{field}: {day.isoformat()} is outside the supported range "
                             f"{FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}")
    return day
