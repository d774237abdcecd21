"""The raw baseline for HTTP commands and start-up: the same server stack (FastAPI on
uvicorn) with one endpoint doing one INSERT transaction, one doing one indexed SELECT,
and nothing else."""

from __future__ import annotations

import os

from fastapi import FastAPI
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

pool = ConnectionPool(os.environ["MARKETFLOW_POSTGRES_URL"], min_size=4, max_size=10, open=True)
with pool.connection() as connection:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS bench_http_baseline (id bigserial PRIMARY KEY, body jsonb)")

app = FastAPI()


@app.post("/baseline")
def insert_one(body: dict[str, object]) -> dict[str, str]:
    with pool.connection() as connection:
        connection.execute("INSERT INTO bench_http_baseline (body) VALUES (%s)", (Jsonb(body),))
    return {"status": "ok"}


@app.get("/baseline")
def latest() -> dict[str, object]:
    """A first query for the start-up baseline: one indexed SELECT."""
    with pool.connection() as connection:
        row = connection.execute(
            "SELECT id FROM bench_http_baseline ORDER BY id DESC LIMIT 1").fetchone()
    return {"latest": row[0] if row else None}


@app.get("/health/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}
