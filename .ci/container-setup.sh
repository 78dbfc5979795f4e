#!/usr/bin/env bash
# Container tests' prerequisites: podman (with runc; crun fails on this kind of machine's hybrid
# cgroups), buildah, debootstrap, and a cached Debian bookworm minbase rootfs tarball that the tests
# import as the Dockerfile's base image (there is no registry to pull from). Idempotent: installs
# only what is missing and reuses the cached tarball.
set -euo pipefail

CACHE_DIR="${PGFLUX_CONTAINER_CACHE:-/var/cache/pgflux-ci}"
SUITE=bookworm
TARBALL="$CACHE_DIR/debian-$SUITE-minbase.tar"

log() { printf '\n== %s\n' "$*"; }

log "podman, buildah, runc, debootstrap"
missing=()
for pkg in podman buildah runc debootstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
podman --version

log "base rootfs ($TARBALL)"
if [ ! -s "$TARBALL" ]; then
    mkdir -p "$CACHE_DIR"
    # The machine's own Debian mirror: the one apt already uses.
    mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
    if [ -z "$mirror" ]; then
        mirror="$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
    fi
    mirror="${mirror:-http://deb.debian.org/debian}"
    root="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >/dev/null
    # The host's extra CA certificates: builds reach package registries only through them.
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        mkdir -p "$root/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    fi
    # apt sources as in debian:bookworm-slim (updates and security too), from the same mirror config.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        rm -f "$root/etc/apt/sources.list"
        cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
    fi
    # As debian:bookworm-slim: dpkg skips docs, man pages and translations, now and in the image's
    # own apt-get installs; no apt lists or downloaded packages.
    cat > "$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/share/info/*
    tar -C "$root" --numeric-owner -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
fi
ls -l "$TARBALL"
