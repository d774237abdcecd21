"""Notifications leaving the app, against real receivers in the test process: an SMTP
server (aiosmtpd) and an HTTP endpoint whose signatures the ``standardwebhooks`` package
verifies. The service is fed through its real (SQLite) store; a fake clock drives retries,
quiet hours and the digest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from uuid import UUID

import pytest
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from services.notification.delivery import MAX_ATTEMPTS, DeliveriesView
from services.notification.domain import Notification, Preferences, preferences_id
from services.notification.integration import translate
from services.notification.webhooks import Subscribe, Webhooks
from shared.domain import EventMeta
from shared.policy import Caller
from tests.unit.delivery_support import (
    WEB_URL,
    FakeClock,
    Receiver,
    Service,
    free_port,
    http_receiver,
    service,
    smtp_server,
)
from tests.unit.in_process import auth, service_client

MONDAY = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)


class Crash(Exception):
    pass


def attempts(app: object, notification_id: UUID) -> list[object]:
    events = app.repository.event_store.get(notification_id)  # type: ignore[attr-defined]
    return [e for e in events if isinstance(e, Notification.DeliveryAttempted)]  # type: ignore[attr-defined]


def notification_of(service: Service, member_id: str) -> UUID:
    rows = service.app.inbox.for_member(member_id).rows
    assert rows, f"no notification for {member_id}"
    return UUID(rows[0]["id"])


def prefer(service: Service, member_id: str, **choices: object) -> None:
    values: dict[str, object] = {"time_zone": "UTC", "channels": {}, "quiet_hours": None,
                                 "digest": False, **choices}
    service.app.save(Preferences(id=preferences_id(member_id), member_id=member_id,
                                 meta=EventMeta(actor=member_id), **values))  # type: ignore[arg-type]


# --- email ------------------------------------------------------------------------------


def test_an_email_has_both_parts_the_headers_and_one_stable_message_id(tmp_path: Path
                                                                       ) -> None:
    with smtp_server() as (catcher, port):
        svc = service(tmp_path, FakeClock(MONDAY), port)
        svc.member("cora", "cora@example.com")
        svc.assign("cora", title="Launch <post> & more")
        assert svc.deliver() == 1
        assert svc.deliver() == 0  # delivered: never again
        [mail] = catcher.received
        assert mail.recipients == ["cora@example.com"]
        assert mail.mail_from == "noreply@marketflow.example"
        message = mail.message
        assert message["To"] == "cora@example.com"
        assert message["Subject"].startswith("Assigned to you: Launch <post> & more")
        assert message["List-Unsubscribe"] == f"<{WEB_URL}/preferences>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "Launch <post> & more" in text and f"{WEB_URL}/tasks/" in text
        assert "Launch &lt;post&gt; &amp; more" in html and "<post>" not in html
        notification_id = notification_of(svc, "cora")
        [attempt] = attempts(svc.app, notification_id)
        assert (attempt.channel, attempt.outcome, attempt.response_code) == (  # type: ignore[attr-defined]
            "email", "delivered", 250)
        published = translate(attempt)
        assert published is not None and published.event_type == (
            "marketflow.notification.delivery.attempted.v1")
        [row] = DeliveriesView(svc.app).of_notification(notification_id)
        assert (row["state"], row["due_at"], row["attempts"]) == ("delivered", None, 1)
        svc.app.close()


def test_a_crash_between_sending_and_recording_sends_again_with_the_same_message_id(
        tmp_path: Path) -> None:
    with smtp_server() as (catcher, port):
        svc = service(tmp_path, FakeClock(MONDAY), port)
        svc.member("cora", "cora@example.com")
        svc.assign("cora")

        def crash() -> None:
            raise Crash

        svc.deliverer.crash_after_send = crash
        with pytest.raises(Crash):
            svc.deliverer._deliver(svc.deliverer.view.due(svc.clock())[0], svc.clock())
        assert len(catcher.received) == 1
        restarted = svc.restarted()
        assert restarted.deliver() == 1
        assert restarted.deliver() == 0
        first, second = catcher.received
        assert first.message["Message-ID"] == second.message["Message-ID"]
        assert len(attempts(restarted.app, notification_of(restarted, "cora"))) == 1
        restarted.app.close()
        svc.app.close()


def test_an_unreachable_smtp_server_is_retried_with_backoff_then_recorded_failed(
        tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    svc = service(tmp_path, clock, free_port())  # nothing listens there
    svc.member("cora", "cora@example.com")
    svc.assign("cora")
    notification_id = notification_of(svc, "cora")
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert svc.deliver() == 1
        assert svc.deliver() == 0  # not due again before its time
        last = attempts(svc.app, notification_id)[-1]
        if last.outcome == "retrying":  # type: ignore[attr-defined]
            waits.append(last.next_attempt_at - clock())  # type: ignore[attr-defined]
            clock.now = last.next_attempt_at  # type: ignore[attr-defined]
    recorded = attempts(svc.app, notification_id)
    assert [a.outcome for a in recorded] == ["retrying"] * (MAX_ATTEMPTS - 1) + ["failed"]  # type: ignore[attr-defined]
    assert waits[:3] == [dt.timedelta(seconds=30), dt.timedelta(seconds=60),
                         dt.timedelta(seconds=120)]
    assert dt.timedelta(hours=20) < sum(waits, dt.timedelta()) < dt.timedelta(hours=30)
    assert "ConnectionRefusedError" in (recorded[-1].error or "")  # type: ignore[attr-defined]
    clock.advance(days=2)
    assert svc.deliver() == 0
    svc.app.close()


def test_quiet_hours_delay_an_email_until_they_end(tmp_path: Path) -> None:
    with smtp_server() as (catcher, port):
        clock = FakeClock(dt.datetime(2030, 1, 7, 21, 30, tzinfo=dt.UTC))  # 23:30 in Helsinki
        svc = service(tmp_path, clock, port)
        svc.member("cora", "cora@example.com")
        prefer(svc, "cora", time_zone="Europe/Helsinki", quiet_hours=["22:00", "07:00"])
        svc.assign("cora")
        assert svc.deliver() == 0
        clock.now = dt.datetime(2030, 1, 8, 4, 59, tzinfo=dt.UTC)  # 06:59 there
        assert svc.deliver() == 0 and catcher.received == []
        clock.now = dt.datetime(2030, 1, 8, 5, 0, tzinfo=dt.UTC)
        assert svc.deliver() == 1
        assert len(catcher.received) == 1
        svc.app.close()


# --- the daily digest -------------------------------------------------------------------


def test_the_digest_is_one_email_at_the_local_hour_once_a_day_across_restarts(
        tmp_path: Path) -> None:
    with smtp_server() as (catcher, port):
        clock = FakeClock(dt.datetime(2030, 1, 7, 10, 0, tzinfo=dt.UTC))  # 12:00 in Helsinki
        svc = service(tmp_path, clock, port, digest_hour=8)
        svc.member("cora", "cora@example.com")
        prefer(svc, "cora", time_zone="Europe/Helsinki", digest=True)
        first, second = svc.assign("cora", "Blog post"), svc.assign("cora", "Newsletter")
        assert svc.deliver() == 0
        clock.now = dt.datetime(2030, 1, 8, 5, 59, tzinfo=dt.UTC)  # 07:59 in Helsinki
        assert svc.deliver() == 0
        clock.now = dt.datetime(2030, 1, 8, 6, 0, tzinfo=dt.UTC)  # 08:00
        restarted = svc.restarted()
        assert restarted.deliver() == 2
        assert restarted.restarted().deliver() == 0
        [mail] = catcher.received
        assert mail.recipients == ["cora@example.com"]
        assert "2030-01-08" in mail.message["Subject"] and "2 notifications" in (
            mail.message["Subject"])
        text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Blog post" in text and "Newsletter" in text
        assert f"{WEB_URL}/tasks/{first}" in text and f"{WEB_URL}/tasks/{second}" in text
        for member_notification in restarted.app.inbox.for_member("cora").rows:
            [attempt] = attempts(restarted.app, UUID(member_notification["id"]))
            assert (attempt.channel, attempt.outcome) == ("digest", "delivered")  # type: ignore[attr-defined]
        # Told later that day: in the next day's digest, not a second one today.
        clock.now = dt.datetime(2030, 1, 8, 9, 0, tzinfo=dt.UTC)
        restarted.assign("cora", "Event page")
        assert restarted.deliver() == 0
        clock.now = dt.datetime(2030, 1, 9, 6, 0, tzinfo=dt.UTC)
        assert restarted.deliver() == 1
        assert len(catcher.received) == 2
        assert catcher.received[0].message["Message-ID"] != catcher.received[1].message[
            "Message-ID"]
        restarted.app.close()
        svc.app.close()


# --- webhooks ---------------------------------------------------------------------------


def subscribe(svc: Service, receiver: Receiver, owner: tuple[str, str] = ("member", "cora"),
              kinds: tuple[str, ...] = ()) -> tuple[str, str]:
    caller = Caller.person("ada", "admin")
    subscription_id, _, secret = Webhooks(svc.app).subscribe(
        Subscribe(owner[0], owner[1], receiver.url, kinds), caller)
    return subscription_id, secret


def verified(receiver: Receiver, secret: str) -> list[dict[str, object]]:
    webhook = Webhook(secret)
    return [webhook.verify(hit.body, hit.headers) for hit in receiver.hits]


def deliveries_counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value("marketflow_notification_deliveries_total",
                                      {"channel": "webhook", "outcome": outcome})
    return value or 0.0


def test_a_webhook_answered_500_twice_is_retried_then_delivered_once(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    counted_before = {outcome: deliveries_counted(outcome)
                      for outcome in ("retrying", "delivered")}
    with http_receiver() as receiver:
        svc = service(tmp_path, clock, None)
        svc.member("cora", None)
        _, secret = subscribe(svc, receiver)
        receiver.script = [(500, {}), (503, {})]
        task_id = svc.assign("cora")
        assert svc.deliver() == 1
        clock.advance(seconds=29)
        assert svc.deliver() == 0
        clock.advance(seconds=1)
        assert svc.deliver() == 1
        clock.advance(seconds=60)
        assert svc.deliver() == 1
        clock.advance(days=2)
        assert svc.deliver() == 0
        bodies = verified(receiver, secret)
        assert len(bodies) == 3
        assert len({hit.headers["webhook-id"] for hit in receiver.hits}) == 1
        data = bodies[0]["data"]
        assert data["kind"] == "task.assigned" and data["recipient_id"] == "cora"  # type: ignore[index]
        assert data["subject_id"] == str(task_id)  # type: ignore[index]
        assert data["link"] == f"{WEB_URL}/tasks/{task_id}"  # type: ignore[index]
        recorded = attempts(svc.app, notification_of(svc, "cora"))
        assert [(a.outcome, a.response_code) for a in recorded] == [  # type: ignore[attr-defined]
            ("retrying", 500), ("retrying", 503), ("delivered", 200)]
        # /metrics counts each attempt as recorded.
        assert deliveries_counted("retrying") - counted_before["retrying"] == 2
        assert deliveries_counted("delivered") - counted_before["delivered"] == 1
        svc.app.close()


def test_a_webhook_to_a_private_address_is_refused_unless_allowed(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    with http_receiver() as receiver:
        svc = service(tmp_path, clock, None, webhook_private_addresses=False)
        svc.member("cora", None)
        subscribe(svc, receiver)
        svc.assign("cora")
        assert svc.deliver() == 1
        assert receiver.hits == []
        [attempt] = attempts(svc.app, notification_of(svc, "cora"))
        assert attempt.outcome == "failed"  # type: ignore[attr-defined]
        assert "non-public address (127.0.0.1)" in attempt.error  # type: ignore[attr-defined]
        svc.app.close()


def test_410_disables_the_endpoint_and_nothing_more_is_sent_to_it(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    with http_receiver() as receiver:
        svc = service(tmp_path, clock, None)
        svc.member("cora", None, teams=("brand",))
        subscribe(svc, receiver, ("team", "brand"))
        receiver.script = [(410, {})]
        svc.assign("cora")
        assert svc.deliver() == 1
        [attempt] = attempts(svc.app, notification_of(svc, "cora"))
        assert (attempt.outcome, attempt.response_code) == ("disabled", 410)  # type: ignore[attr-defined]
        [endpoint] = Webhooks(svc.app).list("team", "brand", Caller.person("ada", "admin")
                                            ).values()
        assert endpoint["active"] is False
        svc.assign("cora", "Another")  # planned no more
        clock.advance(days=1)
        assert svc.deliver() == 0
        assert len(receiver.hits) == 1
        svc.app.close()


def test_429_with_retry_after_is_honoured(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    with http_receiver() as receiver:
        svc = service(tmp_path, clock, None)
        svc.member("cora", None)
        _, secret = subscribe(svc, receiver, kinds=("task.assigned",))
        receiver.script = [(429, {"Retry-After": "600"})]
        svc.assign("cora")
        assert svc.deliver() == 1
        [attempt] = attempts(svc.app, notification_of(svc, "cora"))
        assert attempt.next_attempt_at == MONDAY + dt.timedelta(seconds=600)  # type: ignore[attr-defined]
        clock.advance(seconds=599)
        assert svc.deliver() == 0
        clock.advance(seconds=1)
        assert svc.deliver() == 1
        assert len(verified(receiver, secret)) == 2
        svc.app.close()


def test_a_rotated_secret_and_the_previous_one_both_sign_for_a_day(tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    with http_receiver() as receiver:
        svc = service(tmp_path, clock, None)
        svc.member("cora", None)
        subscription_id, old = subscribe(svc, receiver)
        cora = Caller.person("cora")
        _, new = Webhooks(svc.app).rotate("member", "cora", subscription_id, cora)
        result = Webhooks(svc.app).test("member", "cora", subscription_id, cora)
        assert (result.delivered, result.status_code) == (True, 200)
        verified(receiver, old), verified(receiver, new)
        clock.advance(hours=25)
        Webhooks(svc.app).test("member", "cora", subscription_id, cora)
        assert len(receiver.hits[-1].headers["webhook-signature"].split(" ")) == 1
        Webhook(new).verify(receiver.hits[-1].body, receiver.hits[-1].headers)
        svc.app.close()


# --- the subscriptions API --------------------------------------------------------------


def test_webhook_subscriptions_over_http(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES", "true")  # the receiver's
    with service_client("notification", tmp_path) as client, http_receiver() as receiver:
        for url in ("ftp://example.com/hook", "/relative", "http://", "javascript:alert(1)"):
            refused = client.post("/members/ben/webhooks", json={"url": url},
                                  headers=auth("ben"))
            assert refused.status_code == 422, (url, refused.text)
        assert client.post("/members/ben/webhooks", json={"url": receiver.url},
                           headers=auth("carla")).status_code == 403
        assert client.post("/teams/brand/webhooks", json={"url": receiver.url},
                           headers=auth("ben")).status_code == 403
        created = client.post("/members/ben/webhooks",
                              json={"url": receiver.url, "kinds": ["task.assigned"]},
                              headers=auth("ben"))
        assert created.status_code == 201, created.text
        webhook = created.json()
        assert webhook["secret"].startswith("whsec_") and webhook["owner"] == "member:ben"
        [listed] = client.get("/members/ben/webhooks", headers=auth("ben")).json()
        assert "secret" not in listed and listed["id"] == webhook["id"]
        tested = client.post(f"/members/ben/webhooks/{webhook['id']}/test",
                             headers=auth("ben"))
        assert tested.json() == {"delivered": True, "status_code": 200, "error": None}
        Webhook(webhook["secret"]).verify(receiver.hits[0].body, receiver.hits[0].headers)
        receiver.script = [(404, {})]
        tested = client.post(f"/members/ben/webhooks/{webhook['id']}/test",
                             headers=auth("ben")).json()
        assert (tested["delivered"], tested["status_code"]) == (False, 404)
        deleted = client.delete(f"/members/ben/webhooks/{webhook['id']}", headers=auth("ben"))
        assert deleted.status_code == 200 and deleted.json()["id"] == webhook["id"]
        assert client.get("/members/ben/webhooks", headers=auth("ben")).json() == []
        assert client.delete(f"/members/ben/webhooks/{webhook['id']}",
                             headers=auth("ben")).status_code == 404
