#!/usr/bin/env bash
# The Debian packages the full test suite uses beyond Node (docs/design.md §7.4):
#   dataset-fashion-mnist  the real Fashion-MNIST IDX files (data tests, the methods bench)
#   chromium               the browser page's end-to-end test (driven by playwright-core; nothing is downloaded)
#   xvfb libgl1-mesa-dri   an X display and Mesa, so the GPU kernels run for real on the software rasteriser
#   libxi-dev libglu1-mesa-dev libglew-dev pkg-config
#                          the headers headless-gl (the optional `gl` package of gpu.js) builds against during `npm ci`
#
# Installs what is missing when it can (as root, or with sudo that needs no password); otherwise
# prints exactly what is missing and the command that installs it, and exits 1. With --check it
# only reports. Run it before `npm ci` (headless-gl builds then) — `npm run setup` does the same.
set -euo pipefail

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
for p in xvfb libgl1-mesa-dri libxi-dev libglu1-mesa-dev libglew-dev pkg-config; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: every Debian package the tests use is installed."
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${need[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: missing ${need[*]}, and this is not a Debian-like system (no apt-get): install the equivalents by hand." >&2
  exit 1
fi
if [ "$check_only" = 1 ]; then
  echo "setup-system: missing ${need[*]}. Install with: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    echo "setup-system: missing ${need[*]}; installing needs root. Run:" >&2
    echo "  sudo apt-get update && sudo $cmd" >&2
    echo "Without them \`npm test\` still passes on a developer machine: the tests that need them run their" >&2
    echo "without-package checks instead and say so; under CI=true they are required." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup-system: installing ${need[*]}"
$SUDO apt-get update -qq
$SUDO $cmd -qq >/dev/null
echo "setup-system: done."
