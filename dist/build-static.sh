#!/usr/bin/env bash
# Builds a static x86_64 Linux `vault` (musl libc, no shared libraries at all), the way age
# ships its releases, and writes dist/out/vault-VERSION-x86_64-linux with SHA256SUMS beside it.
#
#   dist/build-static.sh            # the release profile (LTO): what we publish
#   PROFILE=perf dist/build-static.sh   # no LTO, builds faster (the tests use this)
#
# Needs rustup (for the musl standard library) and musl-gcc (Debian: musl-tools) for ring's C.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
profile="${PROFILE:-release}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vault-target}"
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
if ! command -v musl-gcc >/dev/null; then
  echo "musl-gcc is missing: apt-get install musl-tools" >&2
  exit 1
fi
# ring's C is compiled with musl-gcc. The link is rustc's own for this target (its bundled
# musl crt objects, crt-static), not musl-gcc's, which would ask for ld-musl at run time.
export CC_x86_64_unknown_linux_musl=musl-gcc
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
cargo build --locked -q --profile "$profile" -p vault-cli --target "$target"
bin="$CARGO_TARGET_DIR/$target/$profile/vault"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
out=dist/out
mkdir -p "$out"
name="vault-$version-x86_64-linux"
cp "$bin" "$out/$name"
chmod 0755 "$out/$name"
(cd "$out" && sha256sum "$name" > SHA256SUMS)
# Static means static: no interpreter, no NEEDED libraries.
if readelf -l "$out/$name" | grep -q 'Requesting program interpreter'; then
  echo "$out/$name is not static" >&2
  exit 1
fi
echo "$out/$name"
cat "$out/SHA256SUMS"
