#!/usr/bin/env bash
# The release path on this platform, end to end, as a user meets it: `dist`
# builds the Linux x86_64 archive exactly as the release workflow does
# (profile dist: release with thin LTO), the archive's layout is the one the
# binstall metadata names, and cargo-dist's own shell installer installs it
# from a loopback HTTP server standing in for GitHub Releases; the installed
# binary then runs `--version`, `init` and `run` in an empty folder.
#
#   bash .ci/release_smoke.sh      (needs `dist` on PATH: pip install astral-dev-toolchain-cargo-dist==0.33.0)
#
# Not part of .ci/run: the optimised build takes about 7 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
rm -rf target/distrib
dist build --artifacts=local --target "$target"
dist build --artifacts=global >/dev/null
archive="target/distrib/endpoint-harness-$target.tar.xz"
tar tJf "$archive" > target/distrib/listing
grep -qx "endpoint-harness-$target/endpoint-harness" target/distrib/listing
(cd target/distrib && sha256sum -c "endpoint-harness-$target.tar.xz.sha256")
work="$(mktemp -d)"
port_file="$work/port"
python3 - "$PWD/target/distrib" "$port_file" <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
ENDPOINT_HARNESS_DOWNLOAD_URL="http://127.0.0.1:$(cat "$port_file")" \
  ENDPOINT_HARNESS_INSTALL_DIR="$work/install" ENDPOINT_HARNESS_NO_MODIFY_PATH=1 \
  sh target/distrib/endpoint-harness-installer.sh
eh="$work/install/bin/endpoint-harness"
"$eh" --version
mkdir "$work/repo"
(cd "$work/repo" && "$eh" init >/dev/null && "$eh" check && "$eh" run)
echo "release smoke: ok"
