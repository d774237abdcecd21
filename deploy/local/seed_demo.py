"""Seeds the demo data of `make run` through the public HTTP API (idempotent)."""

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
DEMO_CAMPAIGN = "Demo: spring product launch"
PLAYBOOK = {
    "name": "Product launch",
    "tasks": [
        {"key": "positioning", "title": "Agree positioning and key messages",
         "role": "marketing-manager", "offset_days": -42},
        {"key": "launch-brief", "title": "Write the launch brief", "role": "writer",
         "offset_days": -35},
        {"key": "key-visuals", "title": "Design key visuals", "role": "designer",
         "offset_days": -21},
        {"key": "press-release", "title": "Draft the press release", "role": "writer",
         "offset_days": -14},
        {"key": "landing-page", "title": "Publish the landing page", "role": "web",
         "offset_days": -2},
        {"key": "launch-post", "title": "Publish the launch blog post", "role": "writer",
         "offset_days": 0},
        {"key": "retro", "title": "Launch retrospective", "role": "marketing-manager",
         "offset_days": 14},
    ],
}


def main(tokens_file: str) -> int:
    tokens = json.loads(Path(tokens_file).read_text())
    anna = next(token for token, member in tokens.items() if member["member_id"] == "anna")
    client = httpx.Client(base_url=PLANNING, headers={"Authorization": f"Bearer {anna}"},
                          timeout=10)
    existing = client.get("/campaigns").raise_for_status().json()
    campaign = next((c for c in existing if c["name"] == DEMO_CAMPAIGN), None)
    if campaign is None:
        playbook = client.post("/playbooks", json=PLAYBOOK).raise_for_status().json()
        launch = dt.date.today() + dt.timedelta(days=60)
        campaign = client.post("/campaigns", json={
            "playbook_id": playbook["id"], "name": DEMO_CAMPAIGN,
            "launch_date": launch.isoformat(),
            "assignments": {"marketing-manager": "anna", "writer": "ben",
                            "designer": "carla", "web": "dave"},
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
