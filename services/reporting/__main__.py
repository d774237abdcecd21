"""`python -m services.reporting`: run the reporting service (settings from the environment)."""

from services.reporting.wiring import build
from shared.runtime import serve

if __name__ == "__main__":
    serve("reporting", build)
