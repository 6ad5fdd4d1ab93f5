"""Checks Cargo.toml's [package.metadata.binstall] against the release that
cargo-dist plans: for every target in `dist manifest`, the archive binstall
would fetch is one the release uploads, in the format binstall expects, and
the binary sits where binstall looks inside it. cargo-dist's own installer
script is the witness for the layout: it extracts tar archives with
`--strip-components 1` (a folder inside) and zips as they are.

    python3 .ci/binstall_check.py MANIFEST.json INSTALLER.sh
"""

import json
import re
import sys
import tomllib

manifest = json.load(open(sys.argv[1]))
installer = open(sys.argv[2]).read()
package = tomllib.load(open("Cargo.toml", "rb"))["package"]
meta = package["metadata"]["binstall"]
repo = package["repository"].rstrip("/")
name = package["name"]
version = package["version"]

assert re.search(r"tar xf .*--strip-components 1", installer), "dist's tar archives no longer hold one folder"
assert re.search(r'unzip -q "\$_file" -d "\$_dir"', installer), "dist's zips are no longer extracted as they are"

suffix = {"txz": ".tar.xz", "tgz": ".tar.gz", "zip": ".zip"}
release = f"{repo}/releases/download/v{version}/"
checked = 0
for art_name, art in manifest["artifacts"].items():
    if art.get("kind") != "executable-zip":
        continue
    for target in art["target_triples"]:
        over = meta.get("overrides", {}).get(target, {})
        fmt = over.get("pkg-fmt", meta["pkg-fmt"])
        binary_ext = ".exe" if "windows" in target else ""

        def render(template: str) -> str:
            return (
                template.replace("{ repo }", repo)
                .replace("{ version }", version)
                .replace("{ name }", name)
                .replace("{ target }", target)
                .replace("{ archive-suffix }", suffix[fmt])
                .replace("{ bin }", name)
                .replace("{ binary-ext }", binary_ext)
            )

        url = render(over.get("pkg-url", meta["pkg-url"]))
        assert url == release + art_name, f"{target}: binstall fetches {url}, the release uploads {release + art_name}"
        assert art_name.endswith(suffix[fmt]), f"{target}: {art_name} is not {fmt}"
        exe = [a["path"] for a in art["assets"] if a["kind"] == "executable"]
        assert exe == [f"{name}{binary_ext}"], f"{target}: executables {exe}"
        inside = f"{art_name[: -len(suffix[fmt])]}/{exe[0]}" if fmt != "zip" else exe[0]
        bin_dir = render(over.get("bin-dir", meta["bin-dir"]))
        assert bin_dir == inside, f"{target}: binstall looks for {bin_dir}, the archive holds {inside}"
        print(f"{target}: {url} -> {bin_dir}")
        checked += 1
assert checked >= 5, f"only {checked} targets"
print(f"binstall metadata matches the {checked} release archives")
