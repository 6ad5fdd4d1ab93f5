"""Builds the drift corpus: pairs of real ComfyUI txt2img outputs that the
harness's snapshot comparison is tuned and tested on.

    python tests/comfyui/diffusion/make_corpus.py --comfyui PATH/TO/ComfyUI \
        [--python PATH/TO/ComfyUI/venv/bin/python] [--port 8188] \
        [--out tests/fixtures/drift] [--nice 10] [--only A,B]

What it makes
-------------
`--out` (default `tests/fixtures/drift` in this repository) gets one PNG per
image, named `<base>-<variant>.png`, and `corpus.json` describing them. The
corpus has four BASE configurations (A-D below: txt2img on the random-weight
SD1.5-shaped checkpoints that `make_checkpoint.py` builds) and, for each base,
variants of three classes:

- `benign`: a person would call it the same image; the numerical noise that
  another machine, GPU or build also causes (a rerun on a fresh server,
  another attention implementation, other dtype flags that are no-ops or
  near no-ops on CPU, one CPU thread instead of all, the same noise as item 0
  of a batch, the same pixels re-encoded by Pillow);
- `regression`: the endpoint's output really changed (seed, steps, cfg,
  sampler, scheduler, denoise, checkpoint, LoRA, prompt, size), or is broken
  (all black from NaNs, pure noise, a sampler that did not denoise, 1 step);
- `gray`: neither clearly (a precision flag that visibly changes the math,
  an ancestral sampler whose batch position changes its noise).

Every pair records max and mean absolute 8-bit level differences over RGB
(numpy; null when the sizes differ). Images come straight from ComfyUI's
SaveImage (server started with `--disable-metadata`) through GET /view; only
the `png-recompress`, `noise` (and, if ever needed, a synthetic black) images
are written by this script with Pillow, and their "how" says so.

How it runs
-----------
It starts ComfyUI itself (`main.py --cpu --disable-metadata`, under
`nice -n 10`, with temporary output/temp/user folders and an in-memory
database, so the ComfyUI tree is not written to), one server per set of flags
or environment, because several benign variants are server flags. It queues
API graphs over POST /prompt, polls GET /history/<id> (retrying: the entry can
be missing for a moment after execution_success), checks that the sampler
really executed (ComfyUI serves an identical graph from its cache without
re-executing, so no graph is queued twice on one server, and the rerun
variant gets its own freshly started server), fetches the images with
GET /view and stops the server. Seeds are fixed and CPU kernels are
deterministic for a given thread count, so a rerun writes byte-identical
files (corpus.json lists every image's sha256 to check that).

A full run takes roughly 15-30 minutes on a 2-core CPU (the full-size
checkpoint of base C is most of it). `--only` limits the run to some bases,
for trying things out (it still rewrites --out: use another --out for that).

What it needs
-------------
- ComfyUI 0.3.64 (`--comfyui`) and a Python that runs it (`--python`,
  default: the Python running this script), CPU torch is enough;
- in ComfyUI's models/checkpoints: sd15-random-tiny.safetensors,
  sd15-random-tiny-b.safetensors, sd15-random.safetensors; in models/loras:
  sd15-random-tiny-lora.safetensors (see CHECKPOINTS below for the
  make_checkpoint.py commands that build them);
- numpy and Pillow in the Python running this script (ComfyUI's venv has
  both); nothing else (HTTP is urllib from the standard library);
- a free port (`--port`, default 8188): it refuses to start if something
  already answers there.
"""

import argparse
import copy
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MADE_BY = "tests/comfyui/diffusion/make_corpus.py"

TINY = "sd15-random-tiny.safetensors"
TINY_B = "sd15-random-tiny-b.safetensors"
FULL = "sd15-random.safetensors"
TINY_LORA = "sd15-random-tiny-lora.safetensors"

# Model files the corpus uses -> the make_checkpoint.py command that builds them.
CHECKPOINTS = {
    TINY: ("checkpoints", "make_checkpoint.py --variant tiny --seed 0"),
    TINY_B: ("checkpoints", "make_checkpoint.py --variant tiny --seed 1"),
    FULL: ("checkpoints", "make_checkpoint.py --variant full --seed 0"),
    TINY_LORA: ("loras", "make_checkpoint.py --variant tiny --seed 0 --lora (written next to the tiny checkpoint)"),
}

BASES = {
    "A": {"ckpt": TINY, "lora": None, "width": 128, "height": 128, "batch_size": 1,
          "seed": 42, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
          "positive": "a red fox in snow", "negative": "blurry"},
    "B": {"ckpt": TINY, "lora": {"name": TINY_LORA, "strength_model": 1.0, "strength_clip": 1.0},
          "width": 128, "height": 128, "batch_size": 1,
          "seed": 7, "steps": 12, "cfg": 6.0, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0,
          "positive": "a lighthouse at dusk, oil painting", "negative": "blurry, low quality"},
    "C": {"ckpt": FULL, "lora": None, "width": 128, "height": 128, "batch_size": 1,
          "seed": 3, "steps": 6, "cfg": 7.5, "sampler_name": "euler_ancestral", "scheduler": "normal",
          "denoise": 1.0, "positive": "a bowl of ramen on a wooden table", "negative": "blurry"},
    "D": {"ckpt": TINY, "lora": None, "width": 256, "height": 256, "batch_size": 1,
          "seed": 11, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
          "positive": "a mountain lake at sunrise", "negative": "blurry"},
}

# Per-base choices for the regression variants.
OTHER = {
    "A": {"sampler": "euler_ancestral", "scheduler": "karras", "ckpt": TINY_B,
          "word": ("snow", "rain"), "negative": "grainy", "denoise": 0.75},
    "B": {"sampler": "euler", "scheduler": "normal", "ckpt": TINY_B,
          "word": ("dusk", "dawn"), "negative": "blurry, jpeg artifacts", "denoise": 0.9},
    "C": {"sampler": "euler", "scheduler": "karras", "ckpt": TINY,
          "word": ("wooden", "marble"), "negative": "grainy", "denoise": 0.8},
    "D": {"sampler": "heun", "scheduler": "normal", "ckpt": TINY_B,
          "word": ("sunrise", "sunset"), "negative": "grainy", "denoise": 0.75},
}

# Servers: name -> (extra main.py flags, extra environment, description for "how").
SERVERS = {
    "default": ([], {}, "the default server"),
    "rerun": ([], {}, "a freshly restarted default server"),
    "split-attn": (["--use-split-cross-attention"], {}, "a server started with --use-split-cross-attention"),
    "quad-attn": (["--use-quad-cross-attention"], {},
                  "a server started with --use-quad-cross-attention (ComfyUI's CPU default, sub-quadratic)"),
    "pytorch-attn": (["--use-pytorch-cross-attention"], {},
                     "a server started with --use-pytorch-cross-attention (torch scaled_dot_product_attention)"),
    "bf16-vae": (["--bf16-vae"], {}, "a server started with --bf16-vae (VAE in bfloat16)"),
    "force-fp16": (["--force-fp16"], {}, "a server started with --force-fp16"),
    "fp32-vae": (["--fp32-vae"], {}, "a server started with --fp32-vae"),
    "threads1": ([], {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
                 "the default server started with OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 (torch uses 1 thread)"),
    "bf16-unet": (["--bf16-unet"], {}, "a server started with --bf16-unet (UNet weights and math in bfloat16)"),
    "fp16-vae": (["--fp16-vae"], {}, "a server started with --fp16-vae (VAE in float16)"),
}

# The benign / gray variants that are "the base graph on another server":
# variant name -> (server, class, note appended to "how").
SERVER_VARIANTS = {
    "rerun": ("rerun", "benign", ""),
    "split-attn": ("split-attn", "benign", ""),
    "quad-attn": ("quad-attn", "benign", ""),
    "pytorch-attn": ("pytorch-attn", "benign", ""),
    "bf16-vae": ("bf16-vae", "benign", ""),
    "force-fp16": ("force-fp16", "benign", "; on CPU ComfyUI ignores it (should_use_fp16 is false for a CPU device)"),
    "fp32-vae": ("fp32-vae", "benign", "; on CPU the VAE is float32 anyway"),
    "threads1": ("threads1", "benign", ""),
    "bf16-unet": ("bf16-unet", "gray", ""),
    "fp16-vae": ("fp16-vae", "gray", ""),
}

# Classes decided after measuring (see the notes in "how"); a base missing
# here gets the class given in SERVER_VARIANTS / variants().
CLASS_OVERRIDES = {}

# Variants left out of some bases (variant name without the "<base>-").
SKIP = {
    "B": ["fp16-vae"],
    "C": ["fp16-vae"],
    "D": ["fp16-vae"],
}


# ---------------------------------------------------------------- graphs


def graph(s, prefix, mode="ksampler"):
    """The txt2img API graph for settings s. mode: "ksampler" (the normal
    graph), "noisy-latent" (a sampler that returns the initial noisy latent
    without denoising it, so the VAE decodes noise) or "nan" (the sampled latent multiplied by 10
    forty times with LatentMultiply, which overflows float32 to inf, so the
    VAE decodes NaNs)."""
    g = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": s["ckpt"]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": s["positive"], "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": s["negative"], "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage",
              "inputs": {"width": s["width"], "height": s["height"], "batch_size": s["batch_size"]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": s["seed"], "steps": s["steps"], "cfg": s["cfg"], "sampler_name": s["sampler_name"],
            "scheduler": s["scheduler"], "denoise": s["denoise"], "model": ["4", 0],
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": prefix, "images": ["8", 0]}},
    }
    if s["lora"]:
        lo = s["lora"]
        g["10"] = {"class_type": "LoraLoader", "inputs": {
            "model": ["4", 0], "clip": ["4", 1], "lora_name": lo["name"],
            "strength_model": lo["strength_model"], "strength_clip": lo["strength_clip"]}}
        g["3"]["inputs"]["model"] = ["10", 0]
        g["6"]["inputs"]["clip"] = ["10", 1]
        g["7"]["inputs"]["clip"] = ["10", 1]
    if mode == "noisy-latent":
        # SamplerCustom over only the first sigma of the schedule: the
        # latent is noised to sigma_max and returned without one model call.
        # (KSamplerAdvanced with end_at_step 0 does not do this: it returns
        # the empty latent untouched, which decodes to flat gray.)
        k = g["3"]["inputs"]
        g["11"] = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": s["sampler_name"]}}
        g["12"] = {"class_type": "BasicScheduler", "inputs": {
            "model": k["model"], "scheduler": s["scheduler"], "steps": s["steps"], "denoise": s["denoise"]}}
        g["13"] = {"class_type": "SplitSigmas", "inputs": {"sigmas": ["12", 0], "step": 0}}
        g["3"] = {"class_type": "SamplerCustom", "inputs": {
            "model": k["model"], "add_noise": True, "noise_seed": s["seed"], "cfg": s["cfg"],
            "positive": k["positive"], "negative": k["negative"], "sampler": ["11", 0],
            "sigmas": ["13", 0], "latent_image": k["latent_image"]}}
    elif mode == "nan":
        prev = ["3", 0]
        for i in range(40):
            nid = str(100 + i)
            g[nid] = {"class_type": "LatentMultiply", "inputs": {"samples": prev, "multiplier": 10.0}}
            prev = [nid, 0]
        g["8"]["inputs"]["samples"] = prev
    elif mode != "ksampler":
        raise ValueError(mode)
    return g


def changed(s, **kw):
    s = copy.deepcopy(s)
    s.update(kw)
    return s


def variants(base):
    """The variants of one base, in a fixed order. Each is a dict with id,
    class, how and one of: server + settings (+ mode, index) for a graph;
    synth for an image this script writes."""
    s = BASES[base]
    o = OTHER[base]
    out = []

    def job(name, cls, how, settings, server="default", mode="ksampler", index=0):
        out.append({"id": f"{base}-{name}", "class": cls, "how": how, "server": server,
                    "settings": settings, "mode": mode, "index": index})

    # benign / gray: the base graph on other servers
    for name, (server, cls, note) in SERVER_VARIANTS.items():
        job(name, cls, f"the base graph on {SERVERS[server][2]}{note}", s, server=server)
    # An ancestral (or SDE) sampler draws fresh noise for the whole batch at every
    # step, so from the second step image 0 of a batch of two gets other noise
    # than a batch of one: another picture, not drift (gray, not benign).
    ancestral = "ancestral" in s["sampler_name"] or "sde" in s["sampler_name"]
    job("batch2", "gray" if ancestral else "benign",
        "EmptyLatentImage batch_size 1 -> 2, image 0 of the batch (the same initial noise)"
        + ("; gray, not benign: euler_ancestral draws fresh noise for the whole batch at every step, "
           "so from the second step image 0 gets other noise than in a batch of one (a different picture, not drift)"
           if ancestral else ""),
        changed(s, batch_size=2))
    out.append({"id": f"{base}-png-recompress", "class": "benign", "synth": "recompress",
                "how": "the base image's pixels re-saved by Pillow with compress_level 9 "
                       "(SaveImage uses 4): identical pixels, different bytes"})

    # regressions: the graph changed
    job("seed-plus1", "regression", f"seed {s['seed']} -> {s['seed'] + 1}", changed(s, seed=s["seed"] + 1))
    job("steps-plus1", "regression", f"steps {s['steps']} -> {s['steps'] + 1}", changed(s, steps=s["steps"] + 1))
    job("steps-minus1", "regression", f"steps {s['steps']} -> {s['steps'] - 1}", changed(s, steps=s["steps"] - 1))
    job("cfg-plus0.5", "regression", f"cfg {s['cfg']} -> {s['cfg'] + 0.5}", changed(s, cfg=s["cfg"] + 0.5))
    job("cfg-minus0.5", "regression", f"cfg {s['cfg']} -> {s['cfg'] - 0.5}", changed(s, cfg=s["cfg"] - 0.5))
    job(f"sampler-{o['sampler']}", "regression", f"sampler {s['sampler_name']} -> {o['sampler']}",
        changed(s, sampler_name=o["sampler"]))
    job(f"scheduler-{o['scheduler']}", "regression", f"scheduler {s['scheduler']} -> {o['scheduler']}",
        changed(s, scheduler=o["scheduler"]))
    d = o["denoise"]
    note = "" if int(s["steps"] / 0.9) > s["steps"] else (
        f" (not 0.9: KSampler builds a schedule of int(steps / denoise) = {int(s['steps'] / 0.9)} steps and "
        f"keeps the last {s['steps']}, so at {s['steps']} steps denoise 0.9 gives the base's exact image)")
    job(f"denoise-{d}", "regression", f"denoise 1.0 -> {d}{note}", changed(s, denoise=d))
    job("ckpt-" + o["ckpt"].replace("sd15-random-", "").replace(".safetensors", "").replace("sd15-random", "full"),
        "regression", f"checkpoint {s['ckpt']} -> {o['ckpt']}", changed(s, ckpt=o["ckpt"]))
    old, new = o["word"]
    job("prompt-word", "regression", f"positive prompt word {old!r} -> {new!r}",
        changed(s, positive=s["positive"].replace(old, new)))
    job("negative", "regression", f"negative prompt {s['negative']!r} -> {o['negative']!r}",
        changed(s, negative=o["negative"]))
    if s["lora"]:
        lo08 = dict(s["lora"], strength_model=0.8, strength_clip=0.8)
        job("lora-0.8", "regression", "LoRA strength_model and strength_clip 1.0 -> 0.8", changed(s, lora=lo08))
        job("no-lora", "regression", "LoraLoader removed", changed(s, lora=None))
    job("width-plus16", "regression", f"width {s['width']} -> {s['width'] + 16} (another size)",
        changed(s, width=s["width"] + 16))

    # regressions: broken outputs
    job("nan-black", "regression",
        "the sampled latent multiplied by 10 forty times with LatentMultiply before VAEDecode: float32 "
        "overflows to inf, the VAE decodes NaNs and SaveImage writes them as 0 (a real all-black image "
        "from the real pipeline)", s, mode="nan")
    out.append({"id": f"{base}-noise", "class": "regression", "synth": "noise",
                "how": "synthetic: uniform 8-bit RGB noise of the base's size (numpy default_rng seed "
                       f"{noise_seed(base)}), saved by Pillow"})
    job("noisy-latent", "regression",
        "broken sampler: SamplerCustom (add_noise, same seed/sampler/cfg) given only the first sigma of the "
        "base's schedule (BasicScheduler -> SplitSigmas step 0), so the UNet never runs and the VAE decodes "
        "the un-denoised noisy latent (sigma_max times the seed's noise)", s, mode="noisy-latent")
    job("one-step", "regression", f"steps {s['steps']} -> 1", changed(s, steps=1))

    for v in out:
        if v["id"] in CLASS_OVERRIDES:
            v["class"], why = CLASS_OVERRIDES[v["id"]]
            v["how"] += "; " + why
    return [v for v in out if v["id"][2:] not in SKIP.get(base, ())]


def noise_seed(base):
    return 1000 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(base)


# ---------------------------------------------------------------- server


class Server:
    def __init__(self, comfyui, python, port, flags, env, nice, log_dir):
        self.url = f"http://127.0.0.1:{port}"
        self.tmp = tempfile.mkdtemp(prefix="comfy-corpus-")
        for d in ("output", "temp", "user"):
            os.makedirs(os.path.join(self.tmp, d))
        cmd = [python, "main.py", "--cpu", "--disable-metadata", "--listen", "127.0.0.1", "--port", str(port),
               "--output-directory", os.path.join(self.tmp, "output"),
               "--temp-directory", os.path.join(self.tmp, "temp"),
               "--user-directory", os.path.join(self.tmp, "user"),
               "--database-url", "sqlite:///:memory:"] + list(flags)
        full_env = dict(os.environ)
        full_env.update(env)
        self.log_path = os.path.join(log_dir, "comfyui.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=comfyui, env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=(lambda: os.nice(nice)) if nice else None)
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                self.log.flush()
                raise RuntimeError(f"ComfyUI exited during startup:\n{self.tail()}")
            try:
                urllib.request.urlopen(self.url + "/system_stats", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() - t0 > 300:
                    raise RuntimeError(f"ComfyUI did not answer within 300 s:\n{self.tail()}")
                time.sleep(0.5)
        self.startup_s = time.time() - t0

    def tail(self, n=30):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def get(self, path):
        return urllib.request.urlopen(self.url + path, timeout=60).read()

    def run(self, g, sampler_node="3", save_node="9"):
        """Queues g, waits for it, returns the PNG bytes of every image SaveImage wrote."""
        body = json.dumps({"prompt": g, "client_id": "make-corpus"}).encode()
        req = urllib.request.Request(self.url + "/prompt", data=body, headers={"content-type": "application/json"})
        try:
            pid = json.loads(urllib.request.urlopen(req, timeout=60).read())["prompt_id"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"/prompt refused the graph: {e.read().decode(errors='replace')}")
        t0 = time.time()
        while True:
            # /history/<id> is empty until the prompt is done, and can stay
            # empty for a moment after execution_success: keep polling.
            h = json.loads(self.get(f"/history/{pid}")).get(pid)
            if h and h.get("status", {}).get("completed") is not None and (
                    h["status"]["completed"] or h["status"].get("status_str") == "error"):
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI died:\n{self.tail()}")
            if time.time() - t0 > 3600:
                raise RuntimeError("prompt did not finish within an hour")
            time.sleep(0.1)
        st = h["status"]
        if st.get("status_str") != "success":
            raise RuntimeError(f"prompt failed: {json.dumps(st.get('messages'))[:3000]}")
        cached = [n for kind, m in st.get("messages", []) if kind == "execution_cached" for n in m.get("nodes", [])]
        if sampler_node in cached:
            raise RuntimeError("ComfyUI served the sampler from its cache: the graph was queued twice")
        pngs = []
        for img in h["outputs"][save_node]["images"]:
            q = urllib.parse.urlencode({"filename": img["filename"], "subfolder": img["subfolder"],
                                        "type": img["type"]})
            pngs.append(self.get("/view?" + q))
        return pngs, time.time() - t0


def port_in_use(port):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/system_stats", timeout=2)
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


# ---------------------------------------------------------------- images


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def diff(a, b):
    pa, pb = pixels(a), pixels(b)
    if pa.shape != pb.shape:
        return None, None
    d = np.abs(pa - pb)
    return int(d.max()), round(float(d.mean()), 4)


def png_bytes(arr, compress_level):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--comfyui", required=True, help="ComfyUI's folder (with main.py and models/)")
    p.add_argument("--python", default=sys.executable, help="the Python that runs ComfyUI (default: this one)")
    p.add_argument("--port", type=int, default=8188, help="port for the ComfyUI servers (default 8188)")
    p.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "drift"),
                   help="output folder (default: tests/fixtures/drift in this repository)")
    p.add_argument("--nice", type=int, default=10, help="niceness of the ComfyUI servers (default 10)")
    p.add_argument("--only", help="comma-separated bases to make (default: all)")
    a = p.parse_args()
    comfyui = os.path.abspath(a.comfyui)
    bases = a.only.split(",") if a.only else list(BASES)
    t_start = time.time()

    for name, (sub, _) in CHECKPOINTS.items():
        path = os.path.join(comfyui, "models", sub, name)
        if not os.path.exists(path):
            sys.exit(f"missing {path} (build it with {CHECKPOINTS[name][1]})")
    if port_in_use(a.port):
        sys.exit(f"something already answers on port {a.port}: stop it or pass --port")

    version = {}
    exec(open(os.path.join(comfyui, "comfyui_version.py")).read(), version)
    torch_version = subprocess.run([a.python, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()

    # the jobs, grouped by server; order within a server: by base, as listed
    plan = {b: variants(b) for b in bases}
    by_server = {name: [] for name in SERVERS}
    for b in bases:
        by_server["default"].append({"id": f"{b}-base", "server": "default", "settings": BASES[b],
                                     "mode": "ksampler", "index": 0})
        for v in plan[b]:
            if "server" in v:
                by_server[v["server"]].append(v)

    images = {}  # id -> png bytes
    log_dir = tempfile.mkdtemp(prefix="comfy-corpus-log-")
    try:
        for sname, jobs in by_server.items():
            if not jobs:
                continue
            flags, env, _ = SERVERS[sname]
            seen = set()
            for j in jobs:
                j["graph"] = graph(j["settings"], j["id"], j["mode"])
                key = json.dumps({k: v for k, v in j["graph"].items() if k != "9"}, sort_keys=True)
                if key in seen:
                    raise RuntimeError(f"{j['id']}: the same graph twice on server {sname}")
                seen.add(key)
            t0 = time.time()
            srv = Server(comfyui, a.python, a.port, flags, env, a.nice, log_dir)
            print(f"[{sname}] up in {srv.startup_s:.1f} s ({' '.join(flags + [f'{k}={v}' for k, v in env.items()])})",
                  flush=True)
            try:
                for j in jobs:
                    pngs, wall = srv.run(j["graph"])
                    want = j["settings"]["batch_size"]
                    if len(pngs) != want:
                        raise RuntimeError(f"{j['id']}: {len(pngs)} images, expected {want}")
                    images[j["id"]] = pngs[j["index"]]
                    print(f"  {j['id']}: {wall:.1f} s", flush=True)
            finally:
                srv.stop()
            print(f"[{sname}] done in {time.time() - t0:.1f} s", flush=True)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)

    # images this script makes itself
    for b in bases:
        base_px = pixels(images[f"{b}-base"]).astype(np.uint8)
        for v in plan[b]:
            if v.get("synth") == "recompress":
                images[v["id"]] = png_bytes(base_px, 9)
                assert images[v["id"]] != images[f"{b}-base"]
            elif v.get("synth") == "noise":
                rng = np.random.default_rng(noise_seed(b))
                images[v["id"]] = png_bytes(rng.integers(0, 256, size=base_px.shape, dtype=np.uint8), 4)

    # write
    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        if f.endswith(".png") or f == "corpus.json":
            os.remove(os.path.join(a.out, f))
    corpus = {
        "made_by": MADE_BY,
        "comfyui": version["__version__"], "torch": torch_version, "device": "cpu",
        "checkpoints": {},
        "bases": {},
        "pairs": [],
        "images": {},
    }
    used = set()
    for b in bases:
        s = BASES[b]
        used.add(s["ckpt"])
        if s["lora"]:
            used.add(s["lora"]["name"])
        for v in plan[b]:
            if "settings" in v:
                used.add(v["settings"]["ckpt"])
    for name in sorted(used):
        sub, made_by = CHECKPOINTS[name]
        corpus["checkpoints"][name] = {"sha256": sha256_file(os.path.join(comfyui, "models", sub, name)),
                                       "made_by": made_by}
    for b in bases:
        ref = f"{b}-base.png"
        corpus["bases"][b] = {"image": ref, "settings": BASES[b]}
        for v in plan[b]:
            mx, mean = diff(images[f"{b}-base"], images[v["id"]])
            corpus["pairs"].append({"id": v["id"], "base": b, "class": v["class"], "reference": ref,
                                    "candidate": v["id"] + ".png", "how": v["how"],
                                    "max_diff": mx, "mean_diff": mean})
    for iid in sorted(images):
        png = images[iid]
        with open(os.path.join(a.out, iid + ".png"), "wb") as f:
            f.write(png)
        im = Image.open(io.BytesIO(png))
        corpus["images"][iid + ".png"] = {"width": im.width, "height": im.height, "bytes": len(png),
                                          "sha256": hashlib.sha256(png).hexdigest()}
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(corpus, f, indent=2)
        f.write("\n")

    total = sum(len(v) for v in images.values())
    print(f"wrote {len(images)} images ({total / 1e6:.2f} MB) and corpus.json to {a.out} "
          f"in {time.time() - t_start:.0f} s")
    w = max(len(pp["id"]) for pp in corpus["pairs"])
    for pp in corpus["pairs"]:
        print(f"  {pp['id']:<{w}}  {pp['class']:<10}  max {pp['max_diff']!s:>4}  mean {pp['mean_diff']}")


if __name__ == "__main__":
    main()
