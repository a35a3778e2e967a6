#!/bin/sh
# Publishes version $1 of web as a CI job would: artifact/ with a VERSION file, as
# web-<version>.tar.gz in $ARTIFACTS (default /tmp/ferry-artifacts), written under a hidden
# name and renamed so the watcher never sees half a file. The archive is reproducible (sorted
# entries, fixed times and owners, gzip -n): the same version gives the same sha256.
set -eu
version=${1:?usage: publish.sh <version>}
artifacts=${ARTIFACTS:-/tmp/ferry-artifacts}
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp "$here/artifact/server.mjs" "$here/artifact/smoke.mjs" "$build/"
printf '%s\n' "$version" > "$build/VERSION"
chmod 0644 "$build"/*
mkdir -p "$artifacts"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar -C "$build" -cf - server.mjs smoke.mjs VERSION \
  | gzip -n -9 > "$artifacts/.web-$version.tar.gz"
mv "$artifacts/.web-$version.tar.gz" "$artifacts/web-$version.tar.gz"
echo "published $artifacts/web-$version.tar.gz sha256:$(sha256sum "$artifacts/web-$version.tar.gz" | cut -d' ' -f1)"
