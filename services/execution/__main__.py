"""`python -m services.execution`: run the execution service (settings from the environment)."""

from services.execution.wiring import build
from shared.runtime import serve

if __name__ == "__main__":
    serve("execution", build)
