#!/usr/bin/env bash
# The `run:` steps of action.yml, in one script so that .ci/run executes the
# same lines here against the embedded mock. GitHub's own parts (the `uses:`
# of the artifact upload, the runner's PATH file) are the only lines of the
# action this repository cannot run.
#
#   action/run.sh install   install endpoint-harness from a wheel that carries
#                           the binary (seconds, no compile): EH_VERSION is a
#                           version to pin (0.1.0), a wheel file, or empty (latest)
#   action/run.sh run       run the scenarios: EH_TARGET, EH_PARTITION,
#                           EH_SCENARIOS, EH_REPORTS, EH_MAX_COST, EH_CAPABILITIES,
#                           EH_LINT (`true`: `check` first), EH_SUMMARY (`false`:
#                           no step summary, for shards merged later);
#                           RUNPOD_API_KEY and RUNPOD_ENDPOINT_ID from secrets.
#                           Exits non-zero on red; the summary is appended to
#                           GITHUB_STEP_SUMMARY by endpoint-harness itself.
set -euo pipefail

case "${1:-}" in
  install)
    venv="${RUNNER_TEMP:-$(mktemp -d)}/endpoint-harness-venv"
    python3 -m venv "$venv"
    case "${EH_VERSION:-}" in
      "") spec="endpoint-harness" ;;
      *.whl) spec="$EH_VERSION" ;;
      *) spec="endpoint-harness==$EH_VERSION" ;;
    esac
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
    if [ -n "${GITHUB_PATH:-}" ]; then
      echo "$venv/bin" >> "$GITHUB_PATH"
    fi
    "$venv/bin/endpoint-harness" --version
    # For a caller that runs the next step in the same shell (.ci/run).
    echo "installed: $venv/bin/endpoint-harness"
    ;;
  run)
    args=(run --target "${EH_TARGET:-live}")
    if [ -n "${EH_PARTITION:-}" ]; then args+=(--partition "$EH_PARTITION"); fi
    if [ -n "${EH_SCENARIOS:-}" ]; then args+=(--scenarios "$EH_SCENARIOS"); fi
    if [ -n "${EH_REPORTS:-}" ]; then args+=(--reports "$EH_REPORTS"); fi
    if [ -n "${EH_MAX_COST:-}" ]; then export HARNESS_MAX_COST="$EH_MAX_COST"; fi
    if [ -n "${EH_CAPABILITIES:-}" ]; then export HARNESS_CAPABILITIES="$EH_CAPABILITIES"; fi
    if [ "${EH_SUMMARY:-true}" = "false" ]; then export GITHUB_STEP_SUMMARY=""; fi
    if [ "${EH_LINT:-true}" = "true" ]; then
      check=(check)
      if [ -n "${EH_SCENARIOS:-}" ]; then check+=("$EH_SCENARIOS"); fi
      "${EH_BIN:-endpoint-harness}" "${check[@]}"
    fi
    # A live target without its secrets fails (on CI always): never a green mock run.
    exec "${EH_BIN:-endpoint-harness}" "${args[@]}"
    ;;
  *)
    echo "usage: action/run.sh install|run" >&2
    exit 2
    ;;
esac
