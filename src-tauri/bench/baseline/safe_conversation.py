"""The baseline for the concurrency benchmark: what integrators write today, in the style of
Signicat's samples -- `requests`, one thread per flow, `time.sleep(1)` between status reads.

Starts BENCH_FLOWS (1,000) Norwegian BankID Safe Conversation sessions at once against the
simulator described by BENCH_SIM_INFO (JSON: base_url, account_id, client_id, client_secret),
polls each every second for BENCH_SECONDS (60) and prints one JSON line. One access token is
fetched for the whole process (as ID Desk does), and each thread keeps its own
`requests.Session` (keep-alive), the kinder choice for the baseline.
"""

import json
import os
import sys
import threading
import time

import requests

TERMINAL = {"SUCCESS", "ERROR", "CANCELLED", "EXPIRED"}


def main():
    info = json.loads(os.environ["BENCH_SIM_INFO"])
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    with open(os.environ["BENCH_NINS_FILE"], encoding="ascii") as f:
        nins = [line.strip() for line in f if line.strip()]
    base = info["base_url"]
    params = {"signicat-accountId": info["account_id"]}

    token = requests.post(
        f"{base}/auth/open/connect/token",
        data={"grant_type": "client_credentials"},
        auth=(info["client_id"], info["client_secret"]),
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    started = time.monotonic()
    deadline = started + seconds
    lock = threading.Lock()
    outcome = {"created": 0, "errors": 0, "polls": 0, "terminal": 0}

    def flow(nin):
        http = requests.Session()
        body = {
            "allowedProviders": ["nbid"],
            "flow": "headless",
            "language": "en",
            "requestedAttributes": ["name", "firstName", "lastName", "nin", "dateOfBirth"],
            "additionalParameters": {"nbid_auth_type": "PHONE"},
            "prefilledInput": {"nin": nin},
        }
        try:
            session = http.post(
                f"{base}/auth/rest/sessions", params=params, json=body, headers=headers, timeout=30
            ).json()
            with lock:
                outcome["created"] += 1
            while time.monotonic() < deadline:
                time.sleep(1)
                status = http.get(
                    f"{base}/auth/rest/sessions/{session['id']}",
                    params=params,
                    headers=headers,
                    timeout=30,
                ).json()["status"]
                with lock:
                    outcome["polls"] += 1
                if status in TERMINAL:
                    with lock:
                        outcome["terminal"] += 1
                    return
        except Exception as e:  # noqa: BLE001 -- a failed flow is counted, not fatal
            with lock:
                outcome["errors"] += 1
            print(f"flow failed: {type(e).__name__}", file=sys.stderr)

    threads = [threading.Thread(target=flow, args=(nin,), daemon=True) for nin in nins]
    for t in threads:
        t.start()
    start_all_ms = (time.monotonic() - started) * 1000
    for t in threads:
        t.join(max(0.0, deadline + 5 - time.monotonic()))
    outcome.update(flows=len(nins), start_all_ms=start_all_ms)
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main()
