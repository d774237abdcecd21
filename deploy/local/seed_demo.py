"""Seeds the demo data of `make run` through the public HTTP API (idempotent): the demo
team and its members, the example playbooks shipped in services/planning/playbooks/
(imported as YAML files), and a product launch campaign planned from one of them."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import httpx

PLANNING = f"http://127.0.0.1:{os.environ.get('MARKETFLOW_PLANNING_PORT', '8001')}"
REPORTING = f"http://127.0.0.1:{os.environ.get('MARKETFLOW_REPORTING_PORT', '8004')}"
PLAYBOOK_DIR = Path(__file__).resolve().parents[2] / "services" / "planning" / "playbooks"
DEMO_CAMPAIGN = "Demo: spring product launch"
DEMO_TEAM = "marketing-fi"
TEAM = {"name": "Marketing Finland", "country": "FI", "queues": ["content", "web"]}
MEMBERS = {
    "anna": {"name": "Anna (marketing manager)",
             "roles": ["admin", "planner", "marketing-manager", "editor"]},
    "ben": {"name": "Ben (writer)", "roles": ["writer"], "manager_id": "anna"},
    "carla": {"name": "Carla (designer)", "roles": ["designer", "brand"],
              "manager_id": "anna"},
    "dave": {"name": "Dave (web)", "roles": ["web"], "manager_id": "anna",
             "weekly_capacity_hours": 30},
    # A second brand approver and a legal one: nobody approves their own work.
    "erin": {"name": "Erin (brand)", "roles": ["brand"], "manager_id": "anna"},
    "lee": {"name": "Lee (legal)", "roles": ["legal"], "manager_id": "anna"},
    # Reads every report and the audit trail; changes nothing.
    "audrey": {"name": "Audrey (auditor)", "roles": ["auditor"]},
}


def seed_directory(client: httpx.Client) -> None:
    if client.get(f"/teams/{DEMO_TEAM}").status_code != 404:
        return
    client.put(f"/teams/{DEMO_TEAM}", json=TEAM).raise_for_status()
    for member_id in MEMBERS:  # managers first
        client.put(f"/members/{member_id}", json={
            **MEMBERS[member_id], "email": f"{member_id}@demo.marketflow.test",
            "team_ids": [DEMO_TEAM]}).raise_for_status()
    client.put(f"/teams/{DEMO_TEAM}", json={**TEAM, "manager_id": "anna"}).raise_for_status()


def seed_playbooks(client: httpx.Client) -> dict[str, str]:
    """Imports each shipped playbook file not yet defined; returns name -> id."""
    known = {p["name"]: p["id"] for p in client.get("/playbooks").raise_for_status().json()}
    for path in sorted(PLAYBOOK_DIR.glob("*.yaml")):
        text = path.read_text()
        name = next(line.split(":", 1)[1].strip() for line in text.splitlines()
                    if line.startswith("name:"))
        if name in known:
            continue
        response = client.post("/playbooks/import", content=text.encode(),
                               headers={"content-type": "application/yaml"})
        response.raise_for_status()
        known[name] = response.json()["id"]
    return known


def main(tokens_file: str) -> int:
    tokens = json.loads(Path(tokens_file).read_text())
    anna = next(token for token, member in tokens.items() if member["member_id"] == "anna")
    client = httpx.Client(base_url=PLANNING, headers={"Authorization": f"Bearer {anna}"},
                          timeout=10)
    seed_directory(client)
    playbooks = seed_playbooks(client)
    existing = client.get("/campaigns").raise_for_status().json()
    campaign = next((c for c in existing if c["name"] == DEMO_CAMPAIGN), None)
    if campaign is None:
        launch = dt.date.today() + dt.timedelta(days=60)
        campaign = client.post("/campaigns", json={
            "playbook_id": playbooks["Product launch"], "name": DEMO_CAMPAIGN,
            "launch_date": launch.isoformat(), "team_id": DEMO_TEAM,
            "assignments": {"marketing-manager": "anna", "writer": "ben",
                            "designer": "carla", "web": "dave"},
            "queues": {"product-marketer": "content"},
        }).raise_for_status().json()
    reporting = httpx.Client(base_url=REPORTING,
                             headers={"Authorization": f"Bearer {anna}"}, timeout=10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = reporting.get(f"/campaigns/{campaign['id']}/progress")
        if response.status_code == 200 and response.json()["tasks_total"]:
            print(campaign["id"])
            return 0
        time.sleep(0.5)
    print("the demo campaign did not reach reporting within 60 s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
