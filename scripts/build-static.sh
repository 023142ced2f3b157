#!/usr/bin/env bash
# The shipped build: fully static, release, into .build-static/ (prints the binary's path).
#
# -static-executable: no dynamic loader, no shared Swift runtime; a CGI start is ~1 ms.
# -disable-concrete-type-metadata-mangled-name-accessors, for every module (dependencies too,
# so the linker cannot pick a copy of a generic specialization compiled without it): concrete
# generic types such as [String: String] get direct metadata accessors instead of mangled names
# the runtime decodes and checks against every protocol conformance in the binary. That was
# 56 % of a CGI start's instructions (callgrind: 1.60 M -> 0.44 M with the other fixes; bench/README.md,
# "Where the time went").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product pixelhook --scratch-path .build-static \
    -Xswiftc -static-executable \
    -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors "$@" >&2
echo "$PWD/.build-static/release/pixelhook"
