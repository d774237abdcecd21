"""`make run`'s script for real: four service processes on SQLite, the demo campaign
seeded and visible in reporting, the web app first in the banner and signing a demo
member in, and Ctrl-C stopping everything it started."""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.benchmarks.context import free_port
from tests.infrastructure import ROOT, delete_topics

pytestmark = pytest.mark.integration


def test_run_script_serves_the_demo_and_stops_on_ctrl_c(kafka_bootstrap: str,
                                                         tmp_path: Path) -> None:
    ports = {service: free_port()
             for service in ("planning", "execution", "notification", "reporting", "web")}
    namespace = f"run{os.getpid()}"
    env = {**os.environ, "MARKETFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "MARKETFLOW_VAR_DIR": str(tmp_path), "MARKETFLOW_NAMESPACE": namespace,
           **{f"MARKETFLOW_{service.upper()}_PORT": str(port)
              for service, port in ports.items()}}
    env.pop("MARKETFLOW_TOKENS_FILE", None)
    env.pop("MARKETFLOW_WEB_SESSION_KEY", None)
    output = tmp_path / "run.out"
    with output.open("w") as sink:
        process = subprocess.Popen([str(ROOT / "deploy/local/run.sh")], cwd=ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl-C" not in output.read_text():
            assert process.poll() is None, f"run.sh exited early:\n{output.read_text()}"
            assert time.monotonic() < deadline, f"run.sh not serving:\n{output.read_text()}"
            time.sleep(0.5)
        tokens = json.loads((tmp_path / "demo-tokens.json").read_text())
        anna = next(token for token, member in tokens.items() if member["member_id"] == "anna")
        assert anna in output.read_text(), "the demo tokens are printed"
        headers = {"Authorization": f"Bearer {anna}"}
        campaigns = httpx.get(f"http://127.0.0.1:{ports['planning']}/campaigns",
                              headers=headers).json()
        demo = next(c for c in campaigns if c["name"].startswith("Demo"))
        progress = httpx.get(
            f"http://127.0.0.1:{ports['reporting']}/campaigns/{demo['id']}/progress",
            headers=headers)
        assert progress.status_code == 200 and progress.json()["tasks_total"] > 0
        # The demo's notifications reach the local SMTP catcher's Maildir.
        while not list((tmp_path / "mail" / "new").glob("*")):
            assert time.monotonic() < deadline + 60, "no email caught in var/mail"
            time.sleep(0.5)
        caught = mailbox.Maildir(tmp_path / "mail")
        assert any(message["To"].endswith("@demo.marketflow.test") for message in caught)

        banner = output.read_text().split("Press Ctrl-C")[0]
        urls = [word for word in banner.split() if word.startswith("http://")]
        assert urls[0] == f"http://127.0.0.1:{ports['web']}", "the web app comes first"
        with httpx.Client(base_url=urls[0]) as web:
            assert web.get("/auth/config").json() == {"demo": True, "oidc": False}
            signed_in = web.post("/auth/demo-login", json={"member_id": "anna"},
                                 headers={"X-Requested-With": "marketflow"})
            assert signed_in.status_code == 204
            forwarded = web.get(f"/api/reporting/campaigns/{demo['id']}/progress")
            assert forwarded.status_code == 200
            assert forwarded.json()["tasks_total"] == progress.json()["tasks_total"]
        assert (tmp_path / "web-session-key").exists()
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        process.wait(timeout=60)
        asyncio.run(delete_topics(kafka_bootstrap, namespace))
    for port in ports.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2)
