"""Records what a real ComfyUI (and, optionally, the real worker-comfyui handler
in front of it) answers, as fixtures for the harness's ComfyUI target and for
the mock's ComfyUI face.

    python tests/comfyui/record.py http://127.0.0.1:8188 [http://127.0.0.1:8001]

Writes mocks/inventories/comfyui-<version>.json (the node inventory) and one
tests/comfyui/recorded/<case>.json per case: the graph, the /prompt answer
(status and body), every websocket message with the milliseconds since the
prompt was posted, /history for the prompt, and the worker's job answer for
the same graph (status, error, the shape of its output).

Needs `websocket-client` (ComfyUI's and worker-comfyui's own dependency).
Nothing here is part of the test suite; CI replays the recordings.
"""

import json
import re
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

import websocket

HERE = os.path.dirname(os.path.abspath(__file__))


def node(cls, **inputs):
    return {"class_type": cls, "inputs": inputs}


def noisy(w, h, batch=1, color=0x3366CC, seed=1):
    """Nodes 1-2: a coloured image with noise (real pixels, so not blank)."""
    return {
        "1": node("EmptyImage", width=w, height=h, batch_size=batch, color=color),
        "2": node("ImageAddNoise", image=["1", 0], seed=seed, strength=0.5),
    }


def cases(run_id):
    base = noisy(64, 48, batch=2, seed=run_id)
    return {
        "success": {
            **base,
            "3": node("ImageInvert", image=["2", 0]),
            "4": node("SaveImage", images=["3", 0], filename_prefix="rec"),
            "5": node("PreviewImage", images=["2", 0]),
        },
        "cached": {
            # The same graph again: ComfyUI serves every node from its cache.
            **base,
            "3": node("ImageInvert", image=["2", 0]),
            "4": node("SaveImage", images=["3", 0], filename_prefix="rec"),
            "5": node("PreviewImage", images=["2", 0]),
        },
        "validation_errors": {
            "1": node("EmptyImage", width=64, height=48, batch_size=2),
            "2": node("ImageScale", image=["1", 0], upscale_method="bogus", width=8,
                      height=8, crop="disabled"),
            "3": node("SaveImage", images=["2", 0], filename_prefix="rec"),
        },
        "out_of_range": {
            "1": node("EmptyImage", width=0, height=48, batch_size=1, color=0),
            "2": node("ImageBlur", image=["1", 0], blur_radius=99, sigma=1.0),
            "3": node("SaveImage", images=["2", 0], filename_prefix="rec"),
        },
        "unknown_node": {
            **base,
            "3": node("FaceDetailer", image=["2", 0]),
            "4": node("SaveImage", images=["3", 0], filename_prefix="rec"),
        },
        "type_mismatch": {
            "1": node("EmptyLatentImage", width=64, height=64, batch_size=1),
            "2": node("SaveImage", images=["1", 0], filename_prefix="rec"),
        },
        "missing_link": {
            **base,
            "3": node("SaveImage", images=["9", 0], filename_prefix="rec"),
        },
        "bad_slot": {
            **base,
            "3": node("SaveImage", images=["2", 3], filename_prefix="rec"),
        },
        "invalid_int": {
            "1": node("EmptyImage", width="abc", height=48, batch_size=1, color=0),
            "2": node("SaveImage", images=["1", 0], filename_prefix="rec"),
        },
        "missing_upload": {
            # LoadImage checks its file itself (VALIDATE_INPUTS), not as a combo.
            "1": node("LoadImage", image="never-uploaded-3f9c.png"),
            "2": node("SaveImage", images=["1", 0], filename_prefix="rec"),
        },
        "no_outputs": dict(base),
        "no_class_type": {**base, "3": {"inputs": {}}},
        "execution_error": {
            **noisy(64, 48, batch=4, seed=run_id),
            "3": node("CreateVideo", images=["2", 0], fps=8.0),
            "4": node("SaveVideo", video=["3", 0], filename_prefix="rec/v", format="bogus",
                      codec="auto"),
        },
        "video_mp4": {
            **noisy(64, 48, batch=12, seed=run_id),
            "3": node("CreateVideo", images=["2", 0], fps=8.0),
            "4": node("SaveVideo", video=["3", 0], filename_prefix="rec/clip", format="mp4",
                      codec="h264"),
        },
        "animated": {
            **noisy(48, 32, batch=6, seed=run_id),
            "3": node("SaveAnimatedWEBP", images=["2", 0], filename_prefix="rec/anim",
                      fps=6.0, lossless=True, quality=80, method="default"),
            "4": node("SaveAnimatedPNG", images=["2", 0], filename_prefix="rec/anim",
                      fps=6.0, compress_level=4),
            "5": node("SaveWEBM", images=["2", 0], filename_prefix="rec/anim", codec="vp9",
                      fps=6.0, crf=32.0),
        },
        "interrupted": {
            # Slow on CPU (tens of seconds): the recorder interrupts it once it runs.
            "1": node("EmptyImage", width=1024, height=1024, batch_size=8, color=run_id),
            "2": node("ImageBlur", image=["1", 0], blur_radius=31, sigma=10.0),
            "3": node("ImageBlur", image=["2", 0], blur_radius=31, sigma=10.0),
            "4": node("SaveImage", images=["3", 0], filename_prefix="rec"),
        },
    }


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode("utf-8", "replace")


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def record(comfy, name, graph, interrupt=False):
    cid = str(uuid.uuid4())
    host = comfy.split("://", 1)[1]
    ws = websocket.create_connection(f"ws://{host}/ws?clientId={cid}", timeout=600)
    t0 = time.time()
    status, answer = post(f"{comfy}/prompt", {"prompt": graph, "client_id": cid})
    out = {"case": name, "graph": graph, "prompt": {"status": status, "body": answer},
           "ws": [], "history": None}
    if status != 200:
        ws.close()
        return out
    pid = answer["prompt_id"]
    interrupted = False
    while True:
        msg = ws.recv()
        if isinstance(msg, bytes):
            out["ws"].append({"at_ms": round((time.time() - t0) * 1000), "binary": len(msg)})
            continue
        m = json.loads(msg)
        out["ws"].append({"at_ms": round((time.time() - t0) * 1000), **m})
        kind, data = m["type"], m.get("data", {})
        if interrupt and not interrupted and kind == "executing" and data.get("node") == "2":
            post(f"{comfy}/interrupt", {"prompt_id": pid})
            interrupted = True
        if data.get("prompt_id") == pid and kind in (
                "execution_success", "execution_error", "execution_interrupted"):
            break
    ws.close()
    time.sleep(0.2)
    out["history"] = get(f"{comfy}/history/{pid}")
    return out


def worker_answer(worker, graph):
    status, body = post(f"{worker}/runsync", {"input": {"workflow": graph}})
    if not isinstance(body, dict):
        return {"http": status, "body": body}
    output = body.get("output")
    if isinstance(output, dict):
        # Keep the shape, not megabytes of base64.
        for item in output.get("images") or []:
            if isinstance(item, dict) and isinstance(item.get("data"), str):
                item["data"] = f"<{len(item['data'])} base64 characters>"
    return {"http": status, "status": body.get("status"), "error": body.get("error"),
            "output": output}


def scrub(text):
    """Tracebacks name files under the ComfyUI checkout and Python's own
    library: keep the path inside them, drop where they were installed on the
    recording machine."""
    text = re.sub(r'(?:/[^/"\\\s]+)*/ComfyUI/', "<ComfyUI>/", text)
    return re.sub(r'(?:/[^/"\\\s]+)*/(lib/python3\.\d+/)', r"<python>/\1", text)


def main():
    comfy = sys.argv[1].rstrip("/")
    worker = sys.argv[2].rstrip("/") if len(sys.argv) > 2 else None
    # ONLY=a,b records just those cases (and leaves the inventory as it is).
    only = [c for c in os.environ.get("ONLY", "").split(",") if c]
    stats = get(f"{comfy}/system_stats")
    if not only:
        # The inventory the tests and the `comfyui` mock behaviour use.
        inventory = get(f"{comfy}/object_info")
        version = stats["system"]["comfyui_version"]
        path = os.path.join(HERE, "..", "..", "mocks", "inventories", f"comfyui-{version}.json")
        with open(path, "w") as f:
            f.write(scrub(json.dumps(inventory, separators=(",", ":"))))
    rec_dir = os.path.join(HERE, "recorded")
    os.makedirs(rec_dir, exist_ok=True)
    run_id = int(time.time()) % 100000
    for name, graph in cases(run_id).items():
        if only and name not in only:
            continue
        out = record(comfy, name, graph, interrupt=(name == "interrupted"))
        out["comfyui_version"] = stats["system"]["comfyui_version"]
        if worker and name not in ("interrupted", "cached"):
            out["worker"] = worker_answer(worker, graph)
        with open(os.path.join(rec_dir, f"{name}.json"), "w") as f:
            f.write(scrub(json.dumps(out, indent=1)))
        print(name, out["prompt"]["status"], len(out["ws"]), "messages",
              (out.get("worker") or {}).get("status"))


if __name__ == "__main__":
    main()
