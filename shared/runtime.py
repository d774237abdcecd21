"""Wiring one service process: event store, outbox relay, inbox, views and HTTP API.

Every service is started the same way: ``python -m services.<name>`` calls ``serve``
with its ``wiring.build``; nothing else differs between the four processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from shared import logs
from shared.application import ServiceApplication
from shared.auth import TokenRegistry
from shared.config import SERVICES, Settings
from shared.domain import DomainError
from shared.inbox import Inbox
from shared.outbox import OutboxRelay, Translator
from shared.projections import Projection, open_projections

log = logging.getLogger(__name__)
READ_MODEL_POLL_SECONDS = 0.5
READ_MODEL_RETRY_SECONDS = 2.0


@dataclass
class ServiceParts:
    """What a service's wiring hands to the runtime."""

    application: ServiceApplication
    router: APIRouter
    translate: Translator
    upstream: Sequence[str] = ()
    # Read models, opened (and caught up from their recorded positions) at start-up.
    views: Sequence[Projection] = field(default_factory=list)
    # Long-running jobs of the service (e.g. a clock), started after the inbox and relay
    # and cancelled on stop.
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()


Builder = Callable[[Settings], ServiceParts]


class ServiceRuntime:
    def __init__(self, settings: Settings, parts: ServiceParts) -> None:
        self.settings = settings
        self.parts = parts
        self.application = parts.application
        self.producer: AIOKafkaProducer | None = None
        self.broker: KafkaBroker | None = None
        self.relay: OutboxRelay | None = None
        self.inbox: Inbox | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._background_tasks: list[asyncio.Task[None]] = []
        self._read_models_wakeup = asyncio.Event()

    async def start(self) -> None:
        settings = self.settings
        await ensure_topics(settings, settings.topic(), *map(settings.topic, self.parts.upstream))
        await asyncio.to_thread(open_projections, self.parts.views)
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            client_id=f"{settings.namespace}.{settings.service}.relay",
        )
        await self.producer.start()
        self.broker = KafkaBroker(
            settings.kafka_bootstrap,
            client_id=f"{settings.namespace}.{settings.service}",
            logger=logging.getLogger(f"faststream.{settings.service}"),
        )
        self.inbox = Inbox(self.application, self.broker, self.producer, self.parts.upstream)
        self.relay = OutboxRelay(
            self.application, self.producer, self.parts.translate,
            poll_seconds=settings.relay_poll_seconds,
        )
        await self.broker.start()
        self._relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")
        self._relay_task.add_done_callback(_log_task_death)
        if self.parts.views:
            follower = asyncio.create_task(self._follow_read_models(), name="read-models")
            follower.add_done_callback(_log_task_death)
            self._background_tasks.append(follower)
        for job in self.parts.background:
            job_task = asyncio.create_task(job(), name=getattr(job, "__name__", "background"))
            job_task.add_done_callback(_log_task_death)
            self._background_tasks.append(job_task)
        log.info("service started", extra={"topic": settings.topic(),
                                           "upstream": list(self.parts.upstream)})

    def wake_read_models(self) -> None:
        self._read_models_wakeup.set()

    async def _follow_read_models(self) -> None:
        """Keep the read models current between queries (a query still catches up first,
        for read-your-writes), so the query after a burst of events does not fold it."""
        while True:
            self._read_models_wakeup.clear()
            try:
                for view in self.parts.views:
                    await asyncio.to_thread(view.catch_up)
            except Exception:
                log.exception("read models could not catch up; retrying")
                await asyncio.sleep(READ_MODEL_RETRY_SECONDS)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._read_models_wakeup.wait(),
                                       timeout=READ_MODEL_POLL_SECONDS)

    async def stop(self) -> None:
        for task in [*self._background_tasks, self._relay_task]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.broker is not None:
            await self.broker.stop()
        if self.producer is not None:
            await self.producer.stop()
        self.application.close()
        log.info("service stopped")

    async def readiness(self) -> dict[str, str]:
        problems = {}
        try:
            await asyncio.to_thread(self.application.max_notification_id)
        except Exception as error:
            problems["store"] = f"unreachable: {error}"
        if self.broker is None or not await self.broker.ping(timeout=2.0):
            problems["kafka"] = "unreachable"
        if self._relay_task is None or self._relay_task.done():
            problems["outbox"] = "relay is not running"
        return problems


def _log_task_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task died", extra={"task": task.get_name()},
                  exc_info=task.exception())


async def ensure_topics(settings: Settings, *topics: str) -> None:
    """Create the topics (and their dead-letter topics) if they do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = {name for topic in topics for name in (topic, topic + ".dlq")} - existing
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(name, num_partitions=settings.topic_partitions, replication_factor=1)
                    for name in sorted(wanted)
                ])
    finally:
        await admin.close()


def create_http_app(settings: Settings, build: Builder,
                    tokens: TokenRegistry | None = None) -> FastAPI:
    parts = build(settings)
    runtime = ServiceRuntime(settings, parts)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=f"Marketflow {settings.service}",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.tokens = tokens or TokenRegistry.from_file(settings.tokens_file)
    app.include_router(parts.router)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(status_code=error.status_code, content={"detail": str(error)})

    @app.middleware("http")
    async def wake_relay_after_writes(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and runtime.relay is not None:
            runtime.relay.wake()
            runtime.wake_read_models()
        return response

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "live", "service": settings.service}

    @app.get("/health/ready", tags=["health"])
    async def ready() -> JSONResponse:
        problems = await runtime.readiness()
        if problems:
            return JSONResponse(status_code=503, content={"status": "not ready", **problems})
        return JSONResponse(content={"status": "ready", "service": settings.service})

    return app


def serve(service: str, build: Builder) -> None:
    if service not in SERVICES:
        raise SystemExit(f"unknown service {service}")
    logs.configure(service)
    settings = Settings.from_env(service)
    app = create_http_app(settings, build)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None,
                access_log=False)
