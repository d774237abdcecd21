"""`python -m services.planning`: run the planning service (settings from the environment)."""

from services.planning.wiring import build
from shared.runtime import serve

if __name__ == "__main__":
    serve("planning", build)
