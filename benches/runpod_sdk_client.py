"""The comparison client for `cargo bench --bench harness`: the same work done with
the official runpod SDK (1.12.0) and Pillow, at the same concurrency.

    python runpod_sdk_client.py ROOT KEY run_sync JOBS CONCURRENCY
        run_sync, base64-decode, Pillow decode and a size check per job;
        prints {jobs, rate_per_s, cpu_ms_per_job, peak_rss_mb}
    python runpod_sdk_client.py ROOT KEY run_output JOBS CONCURRENCY [ENDPOINTS]
        run() then output(timeout) (the SDK polls /status every second), on the
        comma-separated ENDPOINTS (default lag-a,lag-b,lag-c,lag-d) in turn;
        prints {seen: {job_id: unix ms when the result was seen}}

CPU is measured around the job loop only (interpreter start-up and imports excluded).
"""

import base64
import io
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import runpod
from PIL import Image

root, key, mode, jobs, concurrency = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
runpod.api_key = key
runpod.endpoint_url_base = f"{root}/v2"

if mode == "run_sync":
    workflow = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 7}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}},
    }
else:
    workflow = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 1}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}},
    }
endpoint = runpod.Endpoint("ep")
names = sys.argv[6].split(",") if len(sys.argv) > 6 else ["lag-a", "lag-b", "lag-c", "lag-d"]
lag_endpoints = [runpod.Endpoint(n) for n in names]


def one_sync(_):
    out = endpoint.run_sync({"workflow": workflow}, timeout=120)
    data = base64.b64decode(out["images"][0]["data"])
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.size == (1024, 1024), img.size
    return True


seen = {}


def one_output(i):
    job = lag_endpoints[i % len(lag_endpoints)].run({"workflow": workflow})
    job.output(timeout=60)
    seen[job.job_id] = time.time() * 1000.0


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


before, started = cpu(), time.time()
with ThreadPoolExecutor(concurrency) as pool:
    list(pool.map(one_sync if mode == "run_sync" else one_output, range(jobs)))
wall, used = time.time() - started, cpu() - before
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
if mode == "run_sync":
    print(json.dumps({"jobs": jobs, "wall_s": wall, "rate_per_s": jobs / wall, "cpu_ms_per_job": used * 1000.0 / jobs, "peak_rss_mb": peak}))
else:
    print(json.dumps({"seen": seen}))
