#!/usr/bin/env bash
# Builds the container images of the convert tests, or finds them in the cache, and prints
# their directory (last line of stdout). The Debian rootfs comes first, from its own script.
# What the images are: make-images.py's docstring. Usage: make-images.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rootfs="$("$here/../rootfs/build-debian-rootfs.sh" | tail -n 1)"
exec python3 "$here/make-images.py" --rootfs "$rootfs" --cache
