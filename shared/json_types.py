"""Field types for HTTP representations whose JSON must stay exactly as the services
always wrote it (clients compare these strings), while the OpenAPI document still says
what they are."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

Timestamp = Annotated[
    dt.datetime,
    # ``isoformat()`` (``+00:00``), as the services wrote times before they were typed;
    # pydantic's default would turn UTC into ``Z``.
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware time, as ISO 8601 with its UTC offset."""
