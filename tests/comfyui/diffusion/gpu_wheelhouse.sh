#!/usr/bin/env bash
# Downloads the wheels that gpu_corpus.py's in-process ComfyUI path imports
# beyond torch, numpy and Pillow, for a GPU machine with PyTorch 2.11 and no
# network (gpu_corpus.sh installs them there with pip --no-index).
#
#   tests/comfyui/diffusion/gpu_wheelhouse.sh DIR
#   ONLY="torchsde trampoline" tests/comfyui/diffusion/gpu_wheelhouse.sh DIR
#   PYVERS="3.11 3.12" tests/comfyui/diffusion/gpu_wheelhouse.sh DIR
#   TORCHVISION=0 tests/comfyui/diffusion/gpu_wheelhouse.sh DIR   # leave torchvision out
#
# ONLY (names as in the list below) keeps just those: the workplace's GPU
# image (the device tool's KINDS.md, ../.library/device/ beside the project, read 2026-11-17) already has all of
# them but torchsde and trampoline, so ONLY="torchsde trampoline" (two pure
# wheels, 66 KB) is what that machine needs; gpu_corpus.sh installs only what
# its import check finds missing. Adding transformers and what it imports,
#   ONLY="torchsde trampoline transformers tokenizers huggingface_hub httpx2
#         httpcore2 h11 idna truststore regex packaging"
# (18.5 MiB for 3.12), hedges against the image's own transformers (5.17 by
# KINDS.md; only 5.25 was tried) not loading ComfyUI's CLIP tokenizer:
# gpu_corpus.sh then installs that group and tries again.
#
# Which packages, and why these
# -----------------------------
# The list is what importing comfy.sd, comfy.sample, comfy.samplers and
# comfy.sd1_clip (ComfyUI 0.3.64) and tokenizing a prompt actually pulls in,
# found by running that in a Python that saw only torch (with its own
# dependencies), numpy and Pillow plus the packages added one by one until it
# worked (python -S with a folder of links to the allowed distributions):
#   psutil (comfy.model_management), safetensors, einops (the ldm modules),
#   torchvision (comfy.sd imports every model family; Stable Cascade's and
#   Cosmos's modules import torchvision at the top), tqdm, PyYAML (comfy.sd),
#   scipy (comfy.samplers: scipy.stats; k_diffusion/sampling.py:
#   scipy.integrate), torchsde + trampoline (k_diffusion), transformers +
#   tokenizers (comfy.sd1_clip: CLIPTokenizer; transformers 5 has only the
#   tokenizers-backed one) and what transformers imports at the top:
#   huggingface_hub, httpx2, httpcore2, h11, idna, truststore, packaging, regex.
# Not needed, although they are installed with ComfyUI: PyAV (only through
# nodes.py -> comfy_api.latest, which gpu_corpus.py does not import), aiohttp,
# sentencepiece, kernels and typer (declared by transformers 5, never imported
# on this path: hence --no-deps).
# The versions are the ones the CPU proof ran with (ComfyUI's venv); another
# version may work, but only these were tried.
#
# Python version (PYVERS): the default is 3.12, the Python that KINDS.md says
# holds PyTorch 2.11 on the GPU image (3.12.3); a machine whose Python is not
# known needs one set per candidate version: PYVERS="3.11 3.12" (pure and
# abi3 wheels are shared; scipy, regex, PyYAML and torchvision come twice).
# pip at install time picks the ones for the Python it runs under.
#
# Size: printed at the end. The device run carries at most 64 MiB in all,
# the repository's tracked files (about 12 MB) and ComfyUI's tree (about
# 15 MB) included. Measured 2026-12-07: the full list is 103 MiB for 3.11 +
# 3.12 and 61 MiB for 3.12 alone (scipy 34 MiB, transformers 13 MiB,
# torchvision 7 MiB, tokenizers 3 MiB, the rest 4 MiB): it does not fit
# beside ComfyUI; only a machine that has scipy, transformers and
# torchvision already can be served this way, as the GPU image is. scipy is
# imported at the top of comfy/samplers.py (scipy.stats, for the beta
# scheduler) and comfy/k_diffusion/sampling.py (scipy.integrate, for lms),
# so even euler needs it importable; for a machine without it the honest
# options are its one wheel for that Python (34 MiB, which leaves about
# 3 MiB) or a machine that has it, not a stand-in module.
set -euo pipefail

dir="${1:?usage: gpu_wheelhouse.sh DIR}"
pyvers="${PYVERS:-3.12}"
pip="${PIP:-python3 -m pip}"
mkdir -p "$dir"

pins=(
  psutil==7.2.2
  safetensors==0.8.0
  einops==0.8.2
  tqdm==4.70.1
  PyYAML==6.0.4
  transformers==5.25.0
  tokenizers==0.23.3
  huggingface_hub==2.5.0
  httpx2==2.17.0
  httpcore2==2.17.0
  h11==0.16.0
  idna==3.21
  truststore==0.10.5
  packaging==26.4
  regex==2026.12.2
  scipy==1.17.1
  torchsde==0.2.6
  trampoline==0.1.2
)
if [ "${TORCHVISION:-1}" = 1 ]; then
  # Installed on the device only where torchvision is missing: a torchvision
  # built for another torch is worse than the one next to the device's torch.
  pins+=(torchvision==0.26.0)
fi

if [ -n "${ONLY:-}" ]; then
  keep=()
  for want in $ONLY; do
    found=0
    for p in "${pins[@]}"; do
      if [ "${p%%==*}" = "$want" ]; then keep+=("$p"); found=1; fi
    done
    [ "$found" = 1 ] || { echo "ONLY: $want is not in the list" >&2; exit 1; }
  done
  pins=("${keep[@]}")
fi

for v in $pyvers; do
  nodot="${v/./}"
  echo "== wheels for CPython $v (linux x86_64)"
  $pip download --quiet --only-binary=:all: --no-deps -d "$dir" \
    --implementation cp --python-version "$v" --abi "cp$nodot" --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_12_x86_64 --platform manylinux2010_x86_64 \
    "${pins[@]}"
done

echo "== $dir"
( cd "$dir" && ls -l --block-size=K ./*.whl | awk '{print $5, $9}' | sort -k2 )
total=$(du -cb "$dir"/*.whl | tail -1 | cut -f1)
scipy=$( (du -cb "$dir"/scipy-*.whl 2>/dev/null || printf "0\ttotal\n") | tail -1 | cut -f1)
tv=$( (du -cb "$dir"/torchvision-*.whl 2>/dev/null || printf "0\ttotal\n") | tail -1 | cut -f1)
python3 - "$total" "$scipy" "$tv" <<'EOF'
import sys
total, scipy, tv = (int(x) for x in sys.argv[1:])
mib = 1 << 20
print(f"total {total / mib:.1f} MiB (scipy {scipy / mib:.1f} MiB, torchvision {tv / mib:.1f} MiB, "
      f"the rest {(total - scipy - tv) / mib:.1f} MiB)")
EOF
