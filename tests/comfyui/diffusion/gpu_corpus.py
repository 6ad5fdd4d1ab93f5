"""Builds the GPU drift corpus: the same ComfyUI txt2img graphs as the CPU
corpus (make_corpus.py), run in-process on a GPU under the precision,
attention and cuDNN settings a fleet runs with, and on the CPU beside it.

    python tests/comfyui/diffusion/gpu_corpus.py --comfyui PATH/TO/ComfyUI \
        --models PATH/TO/models [--device cuda|cpu] [--out tests/fixtures/drift-gpu] \
        [--quick] [--full] [--only-configs fp32,default] [--nice 0]

On the GPU machine, run gpu_corpus.sh instead: it checks the Python imports,
builds the checkpoints from their seeds and calls this script.

What it makes
-------------
`--out` (default `tests/fixtures/drift-gpu` in this repository) gets one PNG
per image, named `<base>-<config>.png` (the CPU reference is
`<base>-cpu.png`, a device configuration `<base>-<device>-<config>.png`, a
regression `<base>-<device>-default-<what>.png`), and `corpus.json` with the
schema of tests/fixtures/drift/corpus.json (made_by, comfyui, torch, device,
checkpoints, bases, pairs, images) plus the provenance of the run: CUDA and
cuDNN versions, GPU name and compute capability, host CPU, Python packages,
and per configuration its flags, what ComfyUI chose under them (UNet, VAE and
CLIP dtypes, attention functions), torch's backend switches and wall times.

The configurations (CONFIGS below), each in its own child process because
ComfyUI reads its command-line flags once, when comfy.cli_args is imported:
- `cpu`: `--cpu`, ComfyUI's CPU defaults (fp32 UNet and VAE, CLIP weights
  kept in fp16 and computed in fp32, sub-quadratic attention); the reference of the cross-device pairs, and the same settings
  the CPU corpus was made with (corpus.json's notes say how far `<base>-cpu.png`
  is from the CPU corpus's `<base>-base.png`);
- `fp32` (fp32 UNet, VAE and CLIP, torch SDPA, cudnn.benchmark off): the
  within-device reference; `fp32-rerun` (the same in a fresh process),
  `fp32-bench` (cudnn.benchmark on), `fp32-split` / `fp32-quad` (ComfyUI's
  split / sub-quadratic attention), `fp16-unet`, `bf16-unet`, `fp16-vae`,
  `bf16-vae` (one part in another dtype, the rest fp32);
- `default`: no precision or attention flag, what a fleet runs: on an H100
  model_management's rules should keep the checkpoint's fp16 UNet, run the
  SD VAE in bf16 (its working dtypes are bf16 and fp32), CLIP in fp16 and
  attention through SDPA (not yet seen on a GPU: corpus.json records what
  ComfyUI chose, per configuration);
  `default-bench` (cudnn.benchmark on) and `default-split` (split attention).

Pairs, for every base (BASES; A, B and D are make_corpus.py's, E is base C's
ancestral sampler on the tiny checkpoint):
- `<base>-<config>`: the config's image against the `fp32` image of the same
  device (class benign; tier `within` when only cudnn.benchmark or the
  process differs, else `across`: another dtype or attention backend);
- `<base>-<config>-vs-cpu`: against the CPU reference (tier `across`). Class
  benign, except base E on a GPU: an ancestral sampler draws its per-step
  noise from a generator on the sampling device (CUDA's Philox, not the
  CPU's Mersenne Twister), so a GPU gives another picture than a CPU: gray;
- `<base>-default-bench-vs-default`, `<base>-default-split-vs-default`;
- regressions made on the device in the `default` configuration (bases A
  and B): seed +1, a prompt word, the other tiny checkpoint (seed 1), the
  LoRA left out (B), steps +1, cfg +0.5 (both `visible: "within"`: only a
  same-class reference shows them, drift across classes is as large), an
  all-black image from NaNs, and uniform noise written by this script; each
  against the `default` image (tier within) and against the CPU reference
  (tier across).
A configuration whose image comes out blank (one flat color) while its
reference is not is not drift but a broken output: such a pair is classed
`regression` and its how says so.

Every pair records max and mean absolute 8-bit level differences over RGB
and the PSNR in dB (null when identical; max/mean/psnr null when the sizes
differ), like make_corpus.py.

`--device cpu` runs the whole matrix with every device configuration on the
CPU (`--cpu` added to its flags), to prove the pipeline where there is no
GPU: flags that only act on CUDA (cudnn.benchmark) are no-ops there and the
pairs' how says so; `--fp16-unet` / `--bf16-unet` on a CPU store the UNet's
weights in that dtype and compute in fp32 (ComfyUI's manual cast).

How it runs the graphs
----------------------
No server, no network: each child imports ComfyUI's comfy package (not
nodes.py, which pulls in comfy_api.latest and with it PyAV and the API
nodes) and calls what the nodes call, in the same order, under
torch.inference_mode() like ComfyUI's executor: CheckpointLoaderSimple ->
comfy.sd.load_checkpoint_guess_config; LoraLoader ->
comfy.utils.load_torch_file + comfy.sd.load_lora_for_models; CLIPTextEncode
-> clip.tokenize + clip.encode_from_tokens_scheduled; EmptyLatentImage ->
zeros on ComfyUI's intermediate device; KSampler -> comfy.sample.
fix_empty_latent_channels, prepare_noise and sample; VAEDecode -> vae.decode;
SaveImage -> 255 * image, clipped to 0..255, cast to uint8 (as SaveImage
does: truncation, NaN becomes 0), saved by Pillow with compress_level 4 and
no metadata. Like main.py, a child imports ComfyUI's cuda_malloc before torch
(cudaMallocAsync where ComfyUI would use it). The NaN image multiplies the
sampled latent by 10 forty times (what make_corpus.py does with
LatentMultiply) so float32 overflows to inf and the VAE decodes NaNs.

What was checked on a CPU (2026-12-07, 2 shared cores, torch 2.11.0)
----------------------------------------------------------------------
`--device cpu` over the whole matrix ran in about 7 minutes and wrote 67
images; a rerun gave byte-identical files. `A-cpu.png` equals, pixel for
pixel, the image a ComfyUI server started on the same machine (make_corpus.py's
Server and graph) saved for base A, so the in-process path is the server's
arithmetic; the committed tests/fixtures/drift/A-base.png differs from both by
one level on 13 pixels (B and D likewise), so that difference comes from
where the CPU corpus was made, not from the in-process path; it is also why
the CPU reference is made again in each run rather than taken from the CPU
corpus. make_checkpoint.py rebuilt all four model files with the sha256 that
tests/fixtures/drift/corpus.json lists. On base B (the LoRA) every
configuration with --fp32-text-enc is up to one level (mean 0.046) from the
CPU defaults even on a CPU: without the flag the LoRA-patched CLIP weights are
rounded to fp16; without a LoRA the flag changes nothing (the checkpoint's
weights are fp16 already).

What it needs
-------------
- ComfyUI 0.3.64 (`--comfyui`) and a Python that imports its comfy package
  (`--python`, default this one): torch, numpy, Pillow and the packages
  gpu_wheelhouse.sh lists;
- `--models` with checkpoints/sd15-random-tiny.safetensors,
  checkpoints/sd15-random-tiny-b.safetensors and
  loras/sd15-random-tiny-lora.safetensors (and with `--full`,
  checkpoints/sd15-random.safetensors), built by make_checkpoint.py (see
  CHECKPOINTS; gpu_corpus.sh builds them);
- numpy and Pillow in the Python running this script.
It fails (non-zero) if any child or graph fails; it never writes an image
it did not get from ComfyUI, except the `noise` images, whose how says so.
With --keep-going (gpu_corpus.sh passes it) a failed configuration that no
other one is compared with is left out, the rest is written with
`"complete": false` and `failed_configs` in corpus.json, and the exit status
is still 1: a one-shot GPU run keeps what did work.
"""

import argparse
import hashlib
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MADE_BY = "tests/comfyui/diffusion/gpu_corpus.py"
CPU_CORPUS = os.path.join(REPO, "tests", "fixtures", "drift", "corpus.json")

# The checkpoints, the bases and the regressions' choices are make_corpus.py's
# own (imported, so they cannot drift apart): the images compare with the CPU
# corpus's. make_corpus.py needs only numpy and Pillow at import.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_corpus  # noqa: E402

TINY, TINY_B, FULL, TINY_LORA = make_corpus.TINY, make_corpus.TINY_B, make_corpus.FULL, make_corpus.TINY_LORA
# Model files -> (models subfolder, the make_checkpoint.py command that builds them).
CHECKPOINTS = make_corpus.CHECKPOINTS

# A, B and D are make_corpus.py's bases, unchanged. E is base C's sampler
# settings (euler_ancestral) on the tiny checkpoint, for the device-side noise
# of ancestral samplers. F (only with --full) is the full-size checkpoint at
# SD1.5's own 512x512.
BASES = {b: make_corpus.BASES[b] for b in ("A", "B", "D")}
BASES["E"] = dict(make_corpus.BASES["C"], ckpt=TINY)
BASES["F"] = {"ckpt": FULL, "lora": None, "width": 512, "height": 512, "batch_size": 1,
              "seed": 5, "steps": 8, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
              "positive": "a castle on a hill at night", "negative": "blurry"}
QUICK_BASES = ["A"]
DEFAULT_BASES = ["A", "B", "D", "E"]
REGRESSION_BASES = ["A", "B"]
ANCESTRAL = {"E"}

# Per-base choices for the regressions: make_corpus.py's (the prompt word, the other checkpoint).
OTHER = make_corpus.OTHER

FP32 = ["--fp32-unet", "--fp32-vae", "--fp32-text-enc"]
SDPA = ["--use-pytorch-cross-attention"]

# name -> (ComfyUI flags, cudnn.benchmark, (within-device partner, tier), what differs from the
# partner, what the configuration is). The partner is the image a pair compares against on the
# same device; the tier is "within" where only the process or cudnn.benchmark differs (the same
# class of machine and settings), "across" where a dtype or the attention backend does.
CONFIGS = {
    "fp32": (FP32 + SDPA, False, None, None,
             "fp32 UNet, VAE and CLIP (--fp32-unet --fp32-vae --fp32-text-enc), torch SDPA attention "
             "(--use-pytorch-cross-attention), cudnn.benchmark off"),
    "fp32-rerun": (FP32 + SDPA, False, ("fp32", "within"), "the same settings in a fresh process",
                   "the fp32 configuration again, in a fresh process"),
    "fp32-bench": (FP32 + SDPA, True, ("fp32", "within"), "cudnn.benchmark on",
                   "the fp32 configuration with torch.backends.cudnn.benchmark = True "
                   "(what ComfyUI's --fast autotune sets)"),
    "fp32-split": (FP32 + ["--use-split-cross-attention"], False, ("fp32", "across"),
                   "ComfyUI's split attention (--use-split-cross-attention) instead of SDPA",
                   "fp32, split attention"),
    "fp32-quad": (FP32 + ["--use-quad-cross-attention"], False, ("fp32", "across"),
                  "ComfyUI's sub-quadratic attention (--use-quad-cross-attention) instead of SDPA",
                  "fp32, sub-quadratic attention"),
    "fp16-unet": (["--fp16-unet", "--fp32-vae", "--fp32-text-enc"] + SDPA, False, ("fp32", "across"),
                  "UNet in fp16 (--fp16-unet)", "fp16 UNet, fp32 VAE and CLIP, SDPA"),
    "bf16-unet": (["--bf16-unet", "--fp32-vae", "--fp32-text-enc"] + SDPA, False, ("fp32", "across"),
                  "UNet in bf16 (--bf16-unet)", "bf16 UNet, fp32 VAE and CLIP, SDPA"),
    "fp16-vae": (["--fp32-unet", "--fp16-vae", "--fp32-text-enc"] + SDPA, False, ("fp32", "across"),
                 "VAE in fp16 (--fp16-vae)", "fp32 UNet and CLIP, fp16 VAE, SDPA"),
    "bf16-vae": (["--fp32-unet", "--bf16-vae", "--fp32-text-enc"] + SDPA, False, ("fp32", "across"),
                 "VAE in bf16 (--bf16-vae)", "fp32 UNet and CLIP, bf16 VAE, SDPA"),
    "default": ([], False, ("fp32", "across"),
                "ComfyUI's defaults for the device (no precision or attention flag) instead of fp32",
                "ComfyUI's defaults: no precision or attention flag"),
    "default-bench": ([], True, ("default", "within"), "cudnn.benchmark on",
                      "ComfyUI's defaults with torch.backends.cudnn.benchmark = True"),
    "default-split": (["--use-split-cross-attention"], False, ("default", "across"),
                      "split attention (--use-split-cross-attention) instead of the default",
                      "ComfyUI's default dtypes with split attention"),
}
CPU_REF = "cpu"  # flags: --cpu alone
REF = "fp32"
REGRESSION_CONFIG = "default"


# make_corpus.py's seeds, so base A's noise image is the CPU corpus's A-noise.png.
noise_seed = make_corpus.noise_seed


def changed(s, **kw):
    s = json.loads(json.dumps(s))
    s.update(kw)
    return s


def regressions(base):
    """(name, settings, mode, how, visible) of the regressions made on the device. visible is
    the expectation: "within" where only a reference of the same class can show the change (it
    is no larger than drift across classes), "both" where any reference should."""
    s = BASES[base]
    o = OTHER[base]
    out = [
        ("seed-plus1", changed(s, seed=s["seed"] + 1), "graph", f"seed {s['seed']} -> {s['seed'] + 1}", "both"),
        ("prompt-word", changed(s, positive=s["positive"].replace(*o["word"])), "graph",
         f"positive prompt word {o['word'][0]!r} -> {o['word'][1]!r}", "both"),
        ("ckpt-tiny-b", changed(s, ckpt=o["ckpt"]), "graph", f"checkpoint {s['ckpt']} -> {o['ckpt']}", "both"),
    ]
    if s["lora"]:
        out.append(("no-lora", changed(s, lora=None), "graph", "LoraLoader removed", "both"))
    out += [
        ("steps-plus1", changed(s, steps=s["steps"] + 1), "graph", f"steps {s['steps']} -> {s['steps'] + 1}",
         "within"),
        ("cfg-plus0.5", changed(s, cfg=s["cfg"] + 0.5), "graph", f"cfg {s['cfg']} -> {s['cfg'] + 0.5}", "within"),
        ("nan-black", s, "nan",
         "the sampled latent multiplied by 10 forty times before VAE decode (make_corpus.py's LatentMultiply "
         "chain): float32 overflows to inf, the VAE decodes NaNs and SaveImage's uint8 cast writes them as 0 "
         "(an all-black image from the real pipeline)", "both"),
    ]
    return out


# ---------------------------------------------------------------- child


def child(spec_path):
    """Runs one configuration's jobs in this process and writes its PNGs and
    result JSON. Must run in a fresh interpreter: ComfyUI's flags are read
    when comfy.cli_args is first imported."""
    with open(spec_path) as f:
        spec = json.load(f)
    t0 = time.time()
    comfyui = spec["comfyui"]
    os.chdir(comfyui)  # as main.py runs; nothing is written there
    sys.path.insert(0, comfyui)
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"  # as main.py sets them
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tokenizer is ComfyUI's own copy; never ask a hub
    sys.argv = [sys.argv[0]] + spec["flags"]
    import comfy.options
    comfy.options.enable_args_parsing()
    import comfy.cli_args  # noqa: F401  (parses spec["flags"])
    import cuda_malloc  # noqa: F401  (as main.py: picks cudaMallocAsync before torch is imported)
    import numpy as np
    import torch
    from PIL import Image
    import comfy.model_management as mm
    import comfy.sample
    import comfy.sd
    import comfy.utils
    import comfy.ldm.modules.attention as unet_attention
    import comfy.ldm.modules.diffusionmodules.model as vae_model
    torch.backends.cudnn.benchmark = bool(spec["cudnn_benchmark"])
    import_s = time.time() - t0
    device = mm.get_torch_device()
    on_cuda = device.type == "cuda"

    def sync():
        if on_cuda:
            torch.cuda.synchronize()

    ckpts, loras = {}, {}

    def checkpoint(name):
        if name not in ckpts:
            t = time.time()
            path = os.path.join(spec["models"], "checkpoints", name)
            ckpts[name] = comfy.sd.load_checkpoint_guess_config(path, output_vae=True, output_clip=True,
                                                                embedding_directory=None)[:3]
            print(f"    loaded {name} in {time.time() - t:.1f} s", flush=True)
        return ckpts[name]

    def encode(clip, text):  # CLIPTextEncode
        return clip.encode_from_tokens_scheduled(clip.tokenize(text))

    def run(s, mode):
        model, clip, vae = checkpoint(s["ckpt"])
        if s["lora"]:  # LoraLoader
            lo = s["lora"]
            if lo["name"] not in loras:
                loras[lo["name"]] = comfy.utils.load_torch_file(
                    os.path.join(spec["models"], "loras", lo["name"]), safe_load=True)
            model, clip = comfy.sd.load_lora_for_models(model, clip, loras[lo["name"]],
                                                        lo["strength_model"], lo["strength_clip"])
        pos, neg = encode(clip, s["positive"]), encode(clip, s["negative"])
        latent = torch.zeros([s["batch_size"], 4, s["height"] // 8, s["width"] // 8],
                             device=mm.intermediate_device())  # EmptyLatentImage
        latent = comfy.sample.fix_empty_latent_channels(model, latent)  # KSampler (common_ksampler)
        noise = comfy.sample.prepare_noise(latent, s["seed"], None)
        samples = comfy.sample.sample(model, noise, s["steps"], s["cfg"], s["sampler_name"], s["scheduler"],
                                      pos, neg, latent, denoise=s["denoise"], disable_pbar=True, seed=s["seed"])
        if mode == "nan":
            for _ in range(40):
                samples = samples * 10.0
        images = vae.decode(samples)  # VAEDecode
        if len(images.shape) == 5:
            images = images.reshape(-1, images.shape[-3], images.shape[-2], images.shape[-1])
        sync()
        out = []
        for image in images:  # SaveImage
            i = 255.0 * image.cpu().numpy()
            with np.errstate(invalid="ignore"):
                arr = np.clip(i, 0, 255).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, format="PNG", compress_level=4)
            out.append(buf.getvalue())
        return out

    jobs = []
    with torch.inference_mode():
        for j in spec["jobs"]:
            t = time.time()
            pngs = run(j["settings"], j["mode"])
            if len(pngs) != j["settings"]["batch_size"]:
                raise RuntimeError(f"{j['image']}: {len(pngs)} images, expected {j['settings']['batch_size']}")
            png = pngs[0]
            with open(os.path.join(spec["images"], j["image"]), "wb") as f:
                f.write(png)
            wall = time.time() - t
            jobs.append({"image": j["image"], "wall_s": round(wall, 3), "sha256": hashlib.sha256(png).hexdigest()})
            print(f"    {j['image']}: {wall:.2f} s", flush=True)

    # What ComfyUI chose under these flags, read off the loaded objects.
    model, clip, vae = next(iter(ckpts.values())) if ckpts else (None, None, None)
    chose = {"torch_device": str(device), "vram_state": mm.vram_state.name,
             "unet_attention": unet_attention.optimized_attention.__name__,
             "vae_attention": vae_model.vae_attention().__name__}
    if model is not None:
        chose.update({
            "unet_weight_dtype": str(model.model.get_dtype()).replace("torch.", ""),
            "unet_compute_dtype": str(model.model.manual_cast_dtype or model.model.get_dtype()).replace("torch.", ""),
            "vae_dtype": str(vae.vae_dtype).replace("torch.", ""),
            "clip_weight_dtype": dominant_dtype(clip.cond_stage_model),
        })
    backends = {
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "sdp_flash": torch.backends.cuda.flash_sdp_enabled(),
        "sdp_mem_efficient": torch.backends.cuda.mem_efficient_sdp_enabled(),
        "sdp_math": torch.backends.cuda.math_sdp_enabled(),
        "torch_threads": torch.get_num_threads(),
        "cuda_alloc_conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF"),
    }
    env = {"python": platform.python_version(), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
           "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    if on_cuda:
        env["gpu"] = torch.cuda.get_device_name(device)
        env["gpu_capability"] = ".".join(map(str, torch.cuda.get_device_capability(device)))
    env["packages"] = package_versions()
    result = {"config": spec["config"], "flags": spec["flags"], "chose": chose, "backends": backends, "env": env,
              "import_s": round(import_s, 2), "wall_s": round(time.time() - t0, 2), "jobs": jobs}
    with open(spec["result"], "w") as f:
        json.dump(result, f, indent=2)


def dominant_dtype(module):
    """The dtype most of a module's parameters have (CLIP keeps a float32
    logit_scale beside fp16 weights, so the first parameter would mislead)."""
    counts = {}
    for p in module.parameters():
        counts[p.dtype] = counts.get(p.dtype, 0) + p.numel()
    return str(max(counts, key=counts.get)).replace("torch.", "") if counts else None


def package_versions():
    import importlib.metadata as md
    out = {}
    for d in ("torch", "torchvision", "numpy", "pillow", "scipy", "torchsde", "transformers", "tokenizers",
              "huggingface_hub", "safetensors", "einops", "psutil", "PyYAML", "tqdm"):
        try:
            out[d] = md.version(d)
        except md.PackageNotFoundError:
            out[d] = None
    return out


# ---------------------------------------------------------------- images


# make_corpus.py's: the same decode and the same PNG encoding (its noise
# image is written with compress_level 4, so A-noise.png is byte-identical).
pixels = make_corpus.pixels


def diff(a, b):
    """make_corpus.py's max and mean level differences, and the PSNR (None: identical)."""
    import numpy as np
    mx, mean = make_corpus.diff(a, b)
    if mx is None:
        return None, None, None
    mse = float(((pixels(a) - pixels(b)).astype(np.float64) ** 2).mean())
    psnr = None if mse == 0 else round(10 * math.log10(255.0 ** 2 / mse), 2)
    return mx, mean, psnr


def blank(png):
    """One flat color (std under one level): what a NaN or overflow gives."""
    return float(pixels(png).std()) < 1.0


def png_bytes(arr, compress_level=4):
    return make_corpus.png_bytes(arr, compress_level)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


# ---------------------------------------------------------------- main


def image_name(base, device, config):
    return f"{base}-cpu.png" if config == CPU_REF else f"{base}-{device}-{config}.png"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--comfyui", required=True, help="ComfyUI's folder (with comfy/ and cuda_malloc.py)")
    p.add_argument("--models", required=True, help="folder with checkpoints/ and loras/ (see CHECKPOINTS)")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                   help="where the device configurations run (default cuda; cpu: the same matrix on the CPU)")
    p.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "drift-gpu"),
                   help="output folder (default: tests/fixtures/drift-gpu in this repository)")
    p.add_argument("--python", default=sys.executable, help="the Python that runs ComfyUI (default: this one)")
    p.add_argument("--quick", action="store_true", help="base A only")
    p.add_argument("--full", action="store_true", help="also base F: the full-size checkpoint at 512x512")
    p.add_argument("--only-configs", help="comma-separated device configurations (default: all); cpu is always run")
    p.add_argument("--nice", type=int, default=0, help="niceness of the child processes (default 0)")
    p.add_argument("--child-timeout", type=int, default=1800, help="seconds one configuration may take")
    p.add_argument("--deadline", type=float,
                   help="seconds after the start past which the configurations other than cpu, fp32 and default "
                        "are not started any more (each is then recorded as failed, as with --keep-going)")
    p.add_argument("--keep-going", action="store_true",
                   help="when a configuration other than cpu, fp32 and default fails, leave it out, write the "
                        "rest (corpus.json: complete false, failed_configs) and still exit 1")
    a = p.parse_args()
    comfyui = os.path.abspath(a.comfyui)
    models = os.path.abspath(a.models)
    dev = a.device
    t_start = time.time()

    bases = list(QUICK_BASES if a.quick else DEFAULT_BASES)
    if a.full:
        bases.append("F")
    configs = list(CONFIGS) if not a.only_configs else a.only_configs.split(",")
    for c in configs:
        if c not in CONFIGS:
            sys.exit(f"unknown configuration {c!r} (known: {', '.join(CONFIGS)})")
    for c in list(configs):  # a partner must run too
        partner = CONFIGS[c][2]
        if partner and partner[0] not in configs:
            configs.insert(0, partner[0])
    # cpu, fp32 and default (the references and the regressions) run first, so
    # a --deadline or a failure later leaves the essentials.
    configs = [c for c in CONFIGS if c in configs]
    configs = [c for c in configs if c in (REF, REGRESSION_CONFIG)] + \
        [c for c in configs if c not in (REF, REGRESSION_CONFIG)]
    reg_bases = [b for b in REGRESSION_BASES if b in bases] if REGRESSION_CONFIG in configs else []

    needed = {BASES[b]["ckpt"] for b in bases} | {OTHER[b]["ckpt"] for b in reg_bases}
    needed |= {BASES[b]["lora"]["name"] for b in bases if BASES[b]["lora"]}
    for name in sorted(needed):
        path = os.path.join(models, CHECKPOINTS[name][0], name)
        if not os.path.exists(path):
            sys.exit(f"missing {path} (build it with {CHECKPOINTS[name][1]})")
    for f in ("cuda_malloc.py", "comfyui_version.py", os.path.join("comfy", "sd.py")):
        if not os.path.exists(os.path.join(comfyui, f)):
            sys.exit(f"{comfyui} is not a ComfyUI folder (no {f})")
    version = {}
    exec(open(os.path.join(comfyui, "comfyui_version.py")).read(), version)

    # The children's jobs: every configuration runs every base; the
    # regression configuration also runs the regressions.
    plan = {}  # config -> (flags, benchmark, jobs)
    for c in [CPU_REF] + configs:
        if c == CPU_REF:
            flags, bench = ["--cpu"], False
        else:
            flags, bench = list(CONFIGS[c][0]), CONFIGS[c][1]
            if dev == "cpu":
                flags = ["--cpu"] + flags
        jobs = [{"image": image_name(b, dev, c), "settings": BASES[b], "mode": "graph"} for b in bases]
        if c == REGRESSION_CONFIG:
            for b in reg_bases:
                for name, settings, mode, _how, _vis in regressions(b):
                    jobs.append({"image": f"{b}-{dev}-{c}-{name}.png", "settings": settings, "mode": mode})
        plan[c] = (flags, bench, jobs)

    work = tempfile.mkdtemp(prefix="gpu-corpus-")
    img_dir = os.path.join(work, "images")
    os.makedirs(img_dir)
    results = {}
    failed = {}  # config -> why
    try:
        for c, (flags, bench, jobs) in plan.items():
            essential = c in (CPU_REF, REF, REGRESSION_CONFIG)
            if a.deadline is not None and not essential and time.time() - t_start > a.deadline:
                print(f"[{c}] not started: past the deadline of {a.deadline:.0f} s", flush=True)
                failed[c] = f"not started: past --deadline {a.deadline:.0f} s"
                continue
            spec = {"config": c, "comfyui": comfyui, "models": models, "flags": flags, "cudnn_benchmark": bench,
                    "jobs": jobs, "images": img_dir, "result": os.path.join(work, f"{c}.json")}
            spec_path = os.path.join(work, f"{c}.spec.json")
            with open(spec_path, "w") as f:
                json.dump(spec, f)
            print(f"[{c}] {' '.join(flags) or '(no flags)'}; cudnn.benchmark {'on' if bench else 'off'}; "
                  f"{len(jobs)} graphs", flush=True)
            t = time.time()
            try:
                proc = subprocess.run([a.python, os.path.abspath(__file__), "--child", spec_path],
                                      stdin=subprocess.DEVNULL, timeout=a.child_timeout,
                                      preexec_fn=(lambda: os.nice(a.nice)) if a.nice else None)
                why = None if proc.returncode == 0 else f"exit {proc.returncode}"
            except subprocess.TimeoutExpired:
                why = f"ran past {a.child_timeout} s"
            if why:
                if not a.keep_going or essential:
                    raise SystemExit(f"[{c}] failed ({why})")
                print(f"[{c}] FAILED ({why}): left out, going on (--keep-going)", flush=True)
                failed[c] = why
                continue
            with open(spec["result"]) as f:
                results[c] = json.load(f)
            r = results[c]
            print(f"[{c}] done in {time.time() - t:.1f} s (imports {r['import_s']} s); UNet "
                  f"{r['chose'].get('unet_weight_dtype')}->{r['chose'].get('unet_compute_dtype')}, VAE "
                  f"{r['chose'].get('vae_dtype')}, CLIP {r['chose'].get('clip_weight_dtype')}, attention "
                  f"{r['chose']['unet_attention']} / {r['chose']['vae_attention']}", flush=True)
            if dev == "cuda" and c != CPU_REF and not r["chose"]["torch_device"].startswith("cuda"):
                raise SystemExit(f"[{c}] ran on {r['chose']['torch_device']}, not on CUDA")

        for c in failed:  # only configurations no other one is compared with can fail here
            del plan[c]
            configs.remove(c)
        images = {}
        for c, (_f, _b, jobs) in plan.items():
            for j in jobs:
                with open(os.path.join(img_dir, j["image"]), "rb") as f:
                    images[j["image"]] = f.read()
        import numpy as np
        for b in reg_bases:
            rng = np.random.default_rng(noise_seed(b))
            shape = pixels(images[image_name(b, dev, REGRESSION_CONFIG)]).shape
            images[f"{b}-noise.png"] = png_bytes(rng.integers(0, 256, size=shape, dtype=np.uint8))
        corpus = build_corpus(a, dev, bases, reg_bases, configs, plan, results, images, version, models)
        corpus["complete"] = not failed
        if failed:
            corpus["failed_configs"] = failed
    finally:
        shutil.rmtree(work, ignore_errors=True)

    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        if f.endswith(".png") or f == "corpus.json":
            os.remove(os.path.join(a.out, f))
    for name, png in sorted(images.items()):
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(png)
    corpus["wall_s"] = round(time.time() - t_start, 1)
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(corpus, f, indent=2)
        f.write("\n")

    total = sum(len(v) for v in images.values())
    print(f"wrote {len(images)} images ({total / 1e6:.2f} MB) and corpus.json to {a.out} "
          f"in {time.time() - t_start:.0f} s")
    for note in corpus["notes"]:
        print(f"note: {note}")
    w = max(len(pp["id"]) for pp in corpus["pairs"])
    for pp in corpus["pairs"]:
        print(f"  {pp['id']:<{w}}  {pp['class']:<10} {pp['tier']:<6}  max {pp['max_diff']!s:>4}  "
              f"mean {pp['mean_diff']!s:<7}  psnr {pp['psnr']}")
    if failed:
        sys.exit(f"incomplete: {', '.join(f'{c} ({why})' for c, why in failed.items())} failed")


def build_corpus(a, dev, bases, reg_bases, configs, plan, results, images, version, models):
    ref_env = results[REF if REF in results else configs[0]]["env"]
    corpus = {
        "made_by": MADE_BY,
        "comfyui": version["__version__"],
        "torch": ref_env["torch"],
        "device": dev,
        "torch_cuda": ref_env["torch_cuda"],
        "cudnn": ref_env["cudnn"],
        "gpu": ref_env.get("gpu"),
        "gpu_capability": ref_env.get("gpu_capability"),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": ref_env["python"],
        "packages": ref_env["packages"],
        "notes": [],
        "configs": {},
        "checkpoints": {},
        "bases": {},
        "pairs": [],
        "images": {},
    }
    if dev == "cpu":
        corpus["notes"].append(
            "--device cpu: every device configuration ran on the CPU (--cpu added to its flags); cudnn.benchmark "
            "is a no-op there, and --fp16-unet / --bf16-unet store the UNet's weights in that dtype and compute "
            "in fp32 (ComfyUI's manual cast on a CPU). A proof of the pipeline, not GPU drift.")
    for c, (flags, bench, jobs) in plan.items():
        r = results[c]
        corpus["configs"][c] = {
            "flags": flags, "cudnn_benchmark": bench,
            "what": "ComfyUI's CPU defaults (--cpu): the cross-device reference" if c == CPU_REF else CONFIGS[c][4],
            "chose": r["chose"], "backends": r["backends"], "import_s": r["import_s"], "wall_s": r["wall_s"],
            "graphs": {j["image"]: j["wall_s"] for j in r["jobs"]},
        }

    cpu_corpus = {}
    if os.path.exists(CPU_CORPUS):
        with open(CPU_CORPUS) as f:
            cpu_corpus = json.load(f)
    used = {BASES[b]["ckpt"] for b in bases} | {OTHER[b]["ckpt"] for b in reg_bases}
    used |= {BASES[b]["lora"]["name"] for b in bases if BASES[b]["lora"]}
    for name in sorted(used):
        sub, made_by = CHECKPOINTS[name]
        sha = sha256_file(os.path.join(models, sub, name))
        entry = {"sha256": sha, "made_by": made_by}
        known = cpu_corpus.get("checkpoints", {}).get(name, {}).get("sha256")
        if known:
            entry["same_as_cpu_corpus"] = known == sha
            if known != sha:
                corpus["notes"].append(f"{name}: sha256 {sha} differs from the CPU corpus's {known} "
                                       "(make_checkpoint.py gave another file on this machine)")
        corpus["checkpoints"][name] = entry

    # Is the in-process CPU reference the CPU corpus's server-made image?
    cpu_dir = os.path.dirname(CPU_CORPUS)
    for b in bases:
        theirs = os.path.join(cpu_dir, f"{b}-base.png")
        if b in cpu_corpus.get("bases", {}) and os.path.exists(theirs):
            with open(theirs, "rb") as f:
                mx, mean, _ = diff(f.read(), images[image_name(b, dev, CPU_REF)])
            same = mx == 0
            corpus["notes"].append(
                f"{b}-cpu.png (in-process, this machine's CPU) against tests/fixtures/drift/{b}-base.png (ComfyUI "
                f"server, the CPU corpus's machine): " + ("identical pixels" if same else
                                                          f"max {mx} mean {mean} levels apart"))

    for b in bases:
        corpus["bases"][b] = {"image": image_name(b, dev, REF), "cpu_image": image_name(b, dev, CPU_REF),
                              "settings": BASES[b]}

    def pair(pid, b, cls, tier, ref, cand, how, visible=None):
        mx, mean, psnr = diff(images[ref], images[cand])
        if cls == "benign" and blank(images[cand]) and not blank(images[ref]):
            cls = "regression"
            how += "; the candidate came out blank (one flat color): a broken output, not drift"
        pp = {"id": pid, "base": b, "class": cls, "tier": tier, "reference": ref, "candidate": cand, "how": how,
              "max_diff": mx, "mean_diff": mean, "psnr": psnr}
        if visible:
            pp["visible"] = visible
        corpus["pairs"].append(pp)

    cpu_note = "; on a CPU (--device cpu), where cudnn.benchmark is a no-op" if dev == "cpu" else ""
    for b in bases:
        for c in configs:
            partner = CONFIGS[c][2]
            if partner:
                pc, tier = partner
                pair(f"{b}-{c}" if pc == REF else f"{b}-{c}-vs-{pc}", b, "benign", tier,
                     image_name(b, dev, pc), image_name(b, dev, c),
                     f"the base graph on {dev}: {CONFIGS[c][3]} (reference: the {pc} configuration: "
                     f"{CONFIGS[pc][4]}){cpu_note if CONFIGS[c][1] else ''}")
        for c in configs:
            cls = "benign"
            how = f"the base graph on {dev} ({CONFIGS[c][4]}) against ComfyUI's CPU defaults (--cpu)"
            if dev == "cpu":
                how += "; both on the CPU (--device cpu)"
            elif b in ANCESTRAL:
                cls = "gray"
                how += ("; gray, not benign: euler_ancestral draws each step's noise from a generator on the "
                        "sampling device (CUDA's Philox, not the CPU's Mersenne Twister), so a GPU gives another "
                        "picture than a CPU from the same seed")
            pair(f"{b}-{c}-vs-cpu", b, cls, "across", image_name(b, dev, CPU_REF), image_name(b, dev, c), how)
    for b in reg_bases:
        ref = image_name(b, dev, REGRESSION_CONFIG)
        cands = [(name, f"{b}-{dev}-{REGRESSION_CONFIG}-{name}.png", how, vis)
                 for name, _s, _m, how, vis in regressions(b)]
        cands.append(("noise", f"{b}-noise.png", "synthetic: uniform 8-bit RGB noise of the base's size (numpy "
                      f"default_rng seed {noise_seed(b)}), saved by Pillow", "both"))
        for name, cand, how, vis in cands:
            made = "" if name == "noise" else f" (made on {dev} in the {REGRESSION_CONFIG} configuration)"
            pair(f"{b}-{name}", b, "regression", "within", ref, cand,
                 f"{how}{made}; reference: the base graph in the same configuration", visible=vis)
            pair(f"{b}-{name}-vs-cpu", b, "regression", "across", image_name(b, dev, CPU_REF), cand,
                 f"{how}{made}; reference: the base graph on ComfyUI's CPU defaults", visible=vis)

    for name in sorted(images):
        png = images[name]
        from PIL import Image
        im = Image.open(io.BytesIO(png))
        entry = {"width": im.width, "height": im.height, "bytes": len(png), "sha256": hashlib.sha256(png).hexdigest()}
        for c, (flags, bench, jobs) in plan.items():
            if any(j["image"] == name for j in jobs):
                entry.update({"config": c, "device": "cpu" if c == CPU_REF else dev, "flags": flags,
                              "cudnn_benchmark": bench})
        if "config" not in entry:
            entry["made_by"] = "this script (synthetic)"
        corpus["images"][name] = entry
    return corpus


if __name__ == "__main__":
    main()
