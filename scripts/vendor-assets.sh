#!/usr/bin/env bash
# vendor-assets.sh fetches the pinned front-end packages with `npm pack` (the registry, never a CDN),
# checks the tarball against the integrity pinned below, copies the files the UI serves into
# templates/static/vendor/, and records package, version, integrity and each file's sha256 in
# templates/static/vendor/VENDOR.json. The Go test in templates/ checks the embedded files still match.
#
# To upgrade htmx: change HTMX_VERSION (stay on 2.0.x: htmx 4 renames events and swaps error
# responses), set HTMX_INTEGRITY to the value `npm view htmx.org@<version> dist.integrity` prints,
# run this script, and review the diff.
set -euo pipefail

HTMX_VERSION="2.0.11"
HTMX_INTEGRITY="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="

for tool in npm node tar sha256sum; do
	command -v "$tool" >/dev/null || { echo "vendor-assets: $tool is required" >&2; exit 1; }
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/templates/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm pack verifies the download against the registry's integrity; we also compare with our pin,
# so a republished tarball or a tampered registry answer stops here.
(cd "$work" && npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null)
tarball="$work/htmx.org-${HTMX_VERSION}.tgz"
[ -f "$tarball" ] || { echo "vendor-assets: npm pack produced no $tarball" >&2; exit 1; }
actual="$(node -e 'const c = require("crypto"), fs = require("fs");
process.stdout.write("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
if [ "$actual" != "$HTMX_INTEGRITY" ]; then
	echo "vendor-assets: htmx.org@${HTMX_VERSION} integrity mismatch: got $actual, want $HTMX_INTEGRITY" >&2
	exit 1
fi

mkdir -p "$work/x"
tar -xzf "$tarball" -C "$work/x" package/dist/htmx.min.js package/LICENSE
mkdir -p "$dest"
cp "$work/x/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$work/x/package/LICENSE" "$dest/htmx.LICENSE.txt"

sum() { sha256sum "$1" | cut -d' ' -f1; }
cat >"$dest/VENDOR.json" <<JSON
{
  "packages": [
    {
      "package": "htmx.org",
      "version": "${HTMX_VERSION}",
      "integrity": "${HTMX_INTEGRITY}",
      "files": [
        {"path": "htmx.min.js", "source": "package/dist/htmx.min.js", "sha256": "$(sum "$dest/htmx.min.js")"},
        {"path": "htmx.LICENSE.txt", "source": "package/LICENSE", "sha256": "$(sum "$dest/htmx.LICENSE.txt")"}
      ]
    }
  ]
}
JSON
echo "vendor-assets: htmx.org@${HTMX_VERSION} vendored into ${dest#"$root"/}"
