#!/usr/bin/env bash
# Re-records the real diffusion lane (scenarios/sd15/) from a real ComfyUI and
# worker-comfyui running the random-weight SD1.5-shaped checkpoints that
# make_checkpoint.py builds, so `cargo test` replays real KSampler outputs,
# node timings and progress without ComfyUI.
#
#   COMFYUI_URL=http://127.0.0.1:8188 WORKER_URL=http://127.0.0.1:8001 \
#     tests/comfyui/diffusion/record_lane.sh
#
# Start ComfyUI fresh first (no cached nodes), with the checkpoints in its
# models/checkpoints/ (docs/src/guide/real-lane.md has every step). It writes:
# - mocks/recorded/sd15/<scenario>.yaml and their images, from the `comfyui`
#   target (images, delayTime/executionTime from ComfyUI's own phases, per-node
#   timings); the refusal in missing-model.yaml from the worker (its own words);
# - snapshots/sd15/<scenario>/ references, with the provenance of the run
#   (ComfyUI version, torch, `gpu: cpu`, the commit).
set -euo pipefail
cd "$(dirname "$0")/../../.."

comfy="${COMFYUI_URL:-http://127.0.0.1:8188}"
worker="${WORKER_URL:-http://127.0.0.1:8001}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/mocks"
cp -r mocks/. "$tmp/mocks/"
rm -rf "$tmp/mocks/recorded/sd15" snapshots/sd15

echo "== the lane on ComfyUI ($comfy), one job at a time: images, timings, nodes, references"
HARNESS_TARGET=comfyui COMFYUI_URL="$comfy" HARNESS_CAPABILITIES=sd15 \
  HARNESS_RECORD=1 HARNESS_SNAPSHOTS=update HARNESS_MOCKS="$tmp/mocks" \
  HARNESS_REPORTS="$tmp/reports-comfyui" \
  cargo test --test scenarios -- sd15/ --test-threads=1

echo "== the refusal through worker-comfyui ($worker), in its own words"
mkdir -p "$tmp/worker"
cp -r mocks/. "$tmp/worker/"
HARNESS_TARGET=local RUNPOD_ENDPOINT_URL="$worker" HARNESS_CAPABILITIES=sd15 \
  HARNESS_RECORD=1 HARNESS_MOCKS="$tmp/worker" HARNESS_REPORTS="$tmp/reports-local" \
  cargo test --test scenarios -- --exact sd15/missing-model

rm -rf mocks/recorded/sd15
mkdir -p mocks/recorded
cp -r "$tmp/mocks/recorded/sd15" mocks/recorded/sd15
cp "$tmp/worker/recorded/sd15/missing-model.yaml" mocks/recorded/sd15/missing-model.yaml

echo "== the replay against the embedded mock (both faces)"
cargo test --test scenarios -- sd15/
HARNESS_TARGET=comfyui COMFYUI_URL=mock cargo test --test scenarios -- sd15/
