"""`python -m services.notification`: run the notification service (settings from env)."""

from services.notification.wiring import build
from shared.runtime import serve

if __name__ == "__main__":
    serve("notification", build)
