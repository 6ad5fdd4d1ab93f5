#!/usr/bin/env bash
# The one command that makes the GPU drift corpus on a machine with a GPU,
# PyTorch 2.11 and no network, from the repository root there:
#
#   bash tests/comfyui/diffusion/gpu_corpus.sh COMFYUI_DIR OUT_DIR
#
# Environment (all optional):
#   WHEELHOUSE=DIR  wheels to install offline where an import is missing
#                   (gpu_wheelhouse.sh makes it); installed with pip --no-index
#                   --no-deps into a temporary --target put first on
#                   PYTHONPATH, so the machine's Python is not changed
#   PYTHON=python3  the Python that holds PyTorch
#   DEVICE=cuda     cpu runs the same matrix on the CPU (to try this script
#                   where there is no GPU)
#   QUICK=1         base A only (gpu_corpus.py --quick)
#   FULL=1          also builds the full-size checkpoint (2.1 GB) and runs
#                   base F, 512x512 on it (gpu_corpus.py --full)
#   MODELS=DIR      prebuilt models (checkpoints/, loras/) instead of
#                   building them
#   CONFIGS=a,b     only these device configurations (gpu_corpus.py
#                   --only-configs; for trying things out)
#   DEADLINE=S      gpu_corpus.py --deadline S: configurations other than
#                   cpu, fp32 and default (which run first) are not started
#                   after S seconds of gpu_corpus.py (the run is then
#                   incomplete, exit 1, but written)
#   KEEP_GOING=1    (default) gpu_corpus.py --keep-going: a configuration
#                   that fails (other than cpu, fp32, default) is left out and
#                   the rest is still written, with a non-zero exit: on a
#                   one-shot GPU run the images that did work come back
#   NICE=N          niceness of the builds and of gpu_corpus.py's children
#
# What it does, in order, stopping at the first failure with a non-zero exit
# (KEEP_GOING and DEADLINE aside, which still exit non-zero):
# 1. prints the environment: Python, torch, CUDA, cuDNN, the GPU (nvidia-smi),
#    the CPU;
# 2. checks that the Python imports what gpu_corpus.py's in-process ComfyUI
#    path needs (the list is gpu_wheelhouse.sh's), installs what is missing
#    from WHEELHOUSE, then imports ComfyUI's comfy.sd, comfy.sample and the
#    CLIP tokenizer for real; if that fails and the wheelhouse holds
#    transformers, it installs transformers with what it imports and tries
#    once more;
# 3. builds the checkpoints with make_checkpoint.py from their seeds (tiny
#    seed 0 with its LoRA, tiny seed 1, and with FULL=1 full seed 0), in
#    parallel, into a temporary models folder, and prints their sha256 (the
#    CPU corpus lists the same files' sha256: tests/fixtures/drift/corpus.json);
# 4. runs gpu_corpus.py --device $DEVICE into OUT_DIR (PNGs + corpus.json).
# Nothing is written outside OUT_DIR and a temporary folder (removed at the
# end), except Python's __pycache__ in COMFYUI_DIR.
set -euo pipefail

comfyui="$(cd "${1:?usage: gpu_corpus.sh COMFYUI_DIR OUT_DIR}" && pwd)"
out="${2:?usage: gpu_corpus.sh COMFYUI_DIR OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
device="${DEVICE:-cuda}"
nice_n="${NICE:-0}"
work="$(mktemp -d /tmp/gpu-corpus-sh.XXXXXX)"
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1

echo "== environment"
echo "date: $(date -u +%FT%TZ)  host: $(uname -srm)  cores: $(nproc)"
grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true
free -g 2>/dev/null | sed -n 2p || true
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader || nvidia-smi -L || true
else
  echo "nvidia-smi: not found"
fi
echo "python: $(command -v "$python") $("$python" -c 'import sys; print(sys.version.split()[0])')"
"$python" - <<'EOF'
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN "
      f"{torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}, "
      f"cuda available: {torch.cuda.is_available()}")
if torch.cuda.is_available():
    print(f"GPU {torch.cuda.get_device_name(0)}, compute capability "
          f"{'.'.join(map(str, torch.cuda.get_device_capability(0)))}")
EOF
if [ "$device" = cuda ] && ! "$python" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
  echo "DEVICE=cuda but torch sees no GPU" >&2
  exit 1
fi

echo "== imports"
# module -> distribution, the list gpu_wheelhouse.sh downloads. transformers
# comes with what it imports at the top (TRANSFORMERS_GROUP): where
# transformers is missing, or where the machine's own copy does not import
# ComfyUI's tokenizer, the whole group is installed from the wheelhouse if it
# holds it (shadowing the machine's copies), since the wheelhouse's
# transformers with another huggingface_hub is not what was tried.
TRANSFORMERS_GROUP="transformers tokenizers huggingface_hub httpx2 httpcore2 h11 idna truststore regex packaging"
missing="$("$python" - "$TRANSFORMERS_GROUP" <<'EOF'
import importlib.util, sys
mods = {"numpy": "numpy", "PIL": "pillow", "psutil": "psutil", "safetensors": "safetensors", "einops": "einops",
        "torchvision": "torchvision", "tqdm": "tqdm", "yaml": "PyYAML", "scipy": "scipy", "torchsde": "torchsde",
        "trampoline": "trampoline", "transformers": "transformers", "tokenizers": "tokenizers",
        "huggingface_hub": "huggingface_hub", "regex": "regex", "packaging": "packaging"}
group = sys.argv[1].split()
miss = [d for m, d in mods.items() if importlib.util.find_spec(m) is None]
if "transformers" in miss:
    miss = [d for d in miss if d not in group] + group
print(" ".join(miss))
EOF
)"
install() {  # distributions from the wheelhouse into $work/site, first on PYTHONPATH
  if [ -z "${WHEELHOUSE:-}" ]; then
    echo "no WHEELHOUSE given to install $* from (make one with gpu_wheelhouse.sh)" >&2
    exit 1
  fi
  "$python" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --find-links "$WHEELHOUSE" --target "$work/site" "$@"
  case ":${PYTHONPATH:-}:" in
    *":$work/site:"*) ;;
    *) export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}" ;;
  esac
  echo "installed into $work/site (first on PYTHONPATH): $*"
}
import_check() {
  "$python" - "$comfyui" <<'EOF'
import sys, time, importlib.metadata as md
t = time.time()
sys.path.insert(0, sys.argv[1])
sys.argv = [sys.argv[0], "--cpu"]  # an import check: no need to start CUDA here
import comfy.options
comfy.options.enable_args_parsing()
import comfy.sd, comfy.sample, comfy.samplers, comfy.sd1_clip  # noqa: E401,F401
tokens = comfy.sd1_clip.SDTokenizer().tokenize_with_weights("a red fox in snow")
print(f"ComfyUI's in-process path imports and tokenizes ({time.time() - t:.1f} s)")
vs = []
for d in ("numpy", "pillow", "scipy", "torchvision", "torchsde", "transformers", "tokenizers", "huggingface_hub",
          "safetensors", "einops", "psutil", "PyYAML", "tqdm"):
    try:
        vs.append(f"{d} {md.version(d)}")
    except md.PackageNotFoundError:
        vs.append(f"{d} ?")
print("; ".join(vs))
EOF
}
if [ -n "$missing" ]; then
  echo "missing: $missing"
  # shellcheck disable=SC2086
  install $missing
else
  echo "nothing missing"
fi
if ! import_check; then
  if [ -n "${WHEELHOUSE:-}" ] && ls "$WHEELHOUSE"/transformers-*.whl >/dev/null 2>&1 \
      && [ "${missing#*transformers}" = "$missing" ]; then
    echo "the import check failed: trying the wheelhouse's transformers and what it imports"
    # shellcheck disable=SC2086
    install $TRANSFORMERS_GROUP
    import_check
  else
    echo "the import check failed" >&2
    exit 1
  fi
fi

if [ -n "${MODELS:-}" ]; then
  models="$(cd "$MODELS" && pwd)"
  echo "== prebuilt models: $models"
else
  models="$work/models"
  mkdir -p "$models/checkpoints" "$models/loras"
  echo "== checkpoints from their seeds (make_checkpoint.py), in parallel"
  build() {  # name, then make_checkpoint.py's arguments
    local name="$1"; shift
    ( tb=$(date +%s)
      nice -n "$nice_n" "$python" "$here/make_checkpoint.py" --comfyui "$comfyui" "$@" >"$work/build-$name.log" 2>&1
      echo "built $name in $(( $(date +%s) - tb )) s" >>"$work/build-$name.log" )
  }
  pids=()
  build tiny --variant tiny --seed 0 --out "$models/checkpoints/sd15-random-tiny.safetensors" \
    --lora "$models/loras/sd15-random-tiny-lora.safetensors" & pids+=($!)
  build tiny-b --variant tiny --seed 1 --out "$models/checkpoints/sd15-random-tiny-b.safetensors" & pids+=($!)
  if [ "${FULL:-0}" = 1 ]; then
    build full --variant full --seed 0 --out "$models/checkpoints/sd15-random.safetensors" & pids+=($!)
  fi
  fail=0
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  for f in "$work"/build-*.log; do
    if [ "$fail" = 1 ]; then cat "$f"; else grep -E '^(sha256|built|wrote)' "$f"; fi
  done
  [ "$fail" = 0 ] || { echo "a checkpoint build failed" >&2; exit 1; }
fi

echo "== gpu_corpus.py --device $device"
args=(--comfyui "$comfyui" --models "$models" --device "$device" --out "$out" --python "$python" --nice "$nice_n")
[ "${QUICK:-0}" = 1 ] && args+=(--quick)
[ "${FULL:-0}" = 1 ] && args+=(--full)
[ -n "${CONFIGS:-}" ] && args+=(--only-configs "$CONFIGS")
[ "${KEEP_GOING:-1}" = 1 ] && args+=(--keep-going)
[ -n "${DEADLINE:-}" ] && args+=(--deadline "$DEADLINE")
"$python" "$here/gpu_corpus.py" "${args[@]}"
echo "== done in $(( $(date +%s) - t0 )) s: $out"
