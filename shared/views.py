"""Read models: in-memory projections of a service's own notification log.

A view is rebuilt from the store at start-up and caught up before every query, so it
always reflects everything committed (read-your-writes) and replay is exact: the same
log folded by the same code gives the same answers.
"""

from __future__ import annotations

import threading
from typing import Any

from shared.application import ServiceApplication

PAGE_SIZE = 1000


class View:
    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self.position = 0
        self._lock = threading.Lock()

    def apply(self, domain_event: Any) -> None:
        """Fold one domain event into the view; override."""
        raise NotImplementedError

    def catch_up(self) -> int:
        """Apply everything committed since the last call; returns the new position."""
        with self._lock:
            while True:
                notifications = self.app.recorder.select_notifications(
                    start=self.position + 1, limit=PAGE_SIZE
                )
                for notification in notifications:
                    self.apply(self.app.mapper.to_domain_event(notification))
                    self.position = notification.id
                if len(notifications) < PAGE_SIZE:
                    return self.position
