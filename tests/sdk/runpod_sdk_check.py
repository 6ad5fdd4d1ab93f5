"""Drive the standalone mock with the official runpod Python SDK.

Usage: python runpod_sdk_check.py BASE_URL API_KEY
  BASE_URL is the mock's root, e.g. http://127.0.0.1:8080 (the SDK appends /v2/<id>/<op>).

Each check asserts what the same call returns against RunPod per the reference
(shared/reference/runpod-api.md §4.2). Exit status 0 means every check held.
"""

import sys
import time

import runpod

BASE, KEY = sys.argv[1], sys.argv[2]
WORKFLOW = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 11}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 48, "batch_size": 1}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}},
}

runpod.api_key = KEY
# Read when RunPodClient is built, so set before Endpoint(...).
runpod.endpoint_url_base = f"{BASE}/v2"

checks = []


def check(name, cond, detail=""):
    checks.append((name, bool(cond), detail))
    print(("ok   " if cond else "FAIL ") + name + (f": {detail}" if detail and not cond else ""))


endpoint = runpod.Endpoint("my-endpoint")

# Endpoint.run wraps the dict in {"input": ...} and returns a Job.
job = endpoint.run({"workflow": WORKFLOW})
first = job.status()
check("run returns a job whose first status is not final", first in ("IN_QUEUE", "IN_PROGRESS"), first)

# Job.output(timeout) polls status every second until COMPLETED.
output = job.output(timeout=30)
check("output(timeout) returns the worker output", isinstance(output, dict) and "images" in output, repr(output)[:200])
img = output["images"][0] if output else {}
check("images[] item has filename/type/data", img.get("type") == "base64" and img.get("filename", "").endswith(".png") and len(img.get("data", "")) > 100)
check("status() is COMPLETED once done (cached)", job.status() == "COMPLETED")

# Endpoint.run_sync: POST /runsync with no wait param; COMPLETED returns output directly.
out = endpoint.run_sync({"workflow": WORKFLOW}, timeout=60)
check("run_sync returns output", isinstance(out, dict) and len(out.get("images", [])) == 1, repr(out)[:200])

# A slow job: runsync answers non-final after ?wait, and the SDK then polls.
slow = runpod.Endpoint("slow")
out = slow.run_sync({"workflow": WORKFLOW}, timeout=60)
check("run_sync on a slow job still returns output", isinstance(out, dict) and "images" in out, repr(out)[:200])
import requests  # a dependency of runpod

stats = requests.get(f"{BASE}/_mock/stats", headers={"Authorization": f"Bearer {KEY}"}, timeout=5).json()
check("...because the SDK polled /status after a non-final /runsync", stats["requests"].get("slow status", 0) >= 1, repr(stats["requests"]))

# Cancel a queued job.
cold = runpod.Endpoint("cold-start")
job = cold.run({"workflow": WORKFLOW})
cancelled = job.cancel()
check("cancel returns CANCELLED", cancelled.get("status") == "CANCELLED", repr(cancelled))
check("a cancelled job's status is CANCELLED", runpod.Endpoint("cold-start").rp_client.get(f"cold-start/status/{job.job_id}")["status"] == "CANCELLED")

# health: open maps of job and worker counts.
health = endpoint.health()
check("health has jobs and workers maps", set(health.get("jobs", {})) >= {"completed", "failed", "inProgress", "inQueue", "retried"} and "idle" in health.get("workers", {}), repr(health))

# purge_queue removes only queued jobs and answers with lowercase "completed".
cold.run({"workflow": WORKFLOW})
cold.run({"workflow": WORKFLOW})
purged = cold.purge_queue()
check("purge_queue answers {removed, status: completed}", purged == {"removed": 2, "status": "completed"}, repr(purged))

# FAILED jobs: output() returns None and status() is FAILED.
failing = runpod.Endpoint("failed-unknown-node")
job = failing.run({"workflow": WORKFLOW})
deadline = time.time() + 30
while job.status() not in ("FAILED", "COMPLETED") and time.time() < deadline:
    time.sleep(0.2)
check("a failing job ends FAILED", job.status() == "FAILED")

# A wrong key: the SDK raises its 401 RuntimeError.
runpod.api_key = "wrong-key"
try:
    runpod.Endpoint("my-endpoint").run({"workflow": WORKFLOW})
    check("a wrong key raises 401", False, "no exception")
except RuntimeError as e:
    check("a wrong key raises 401", "401" in str(e), str(e))

failed = [c for c in checks if not c[1]]
print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
