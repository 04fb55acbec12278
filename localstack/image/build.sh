#!/usr/bin/env bash
# Builds the LocalStack image for the `container` backend without any container registry:
# a minimal Debian (trixie: Python 3.13) root file system from debootstrap, the same pinned venv
# as the `localstack` backend (../requirements-lock.txt, pip install --no-deps), imported with
# `docker import`. Only a Debian mirror and PyPI (or pip's configured index) must be reachable.
#
#   localstack/image/build.sh            # what `just localstack-image` runs
#   FORCE=1 localstack/image/build.sh    # rebuild even if the image is up to date
#
# Settings (environment): WB_LOCALSTACK_IMAGE_TAG (default workbench/localstack:2026.3.0),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SUITE (default trixie).
# The image is labelled with the lock file's SHA-256; an image with the same label is not rebuilt.
# Needs root (debootstrap, chroot); installs debootstrap with apt-get when it is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/../requirements-lock.txt"
image="${WB_LOCALSTACK_IMAGE_TAG:-workbench/localstack:2026.3.0}"
suite="${DEBIAN_SUITE:-trixie}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
label="org.workbench.localstack.lock-sha256"
venv=/opt/localstack-venv

say() { printf 'localstack-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ -f "$lock" ] || die "lock file $lock is missing"
hash="$(sha256sum "$lock" | cut -d' ' -f1)"

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed; install Docker first"
docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is it running? may this user use its socket?)"

existing="$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null || true)"
previous_id="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if [ "$existing" = "$hash" ] && [ "${FORCE:-0}" != 1 ]; then
    say "$image is up to date (lock $hash); FORCE=1 rebuilds it"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "debootstrap and chroot need root: run it as root (e.g. sudo $0)"
if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    apt-get install -y debootstrap || { apt-get update && apt-get install -y debootstrap; }
fi

started=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/var/tmp}/workbench-localstack-image.XXXXXX")"
rootfs="$work/rootfs"
cleanup() {
    # Never delete through a mount point (debootstrap mounts /proc and /sys while it works).
    local mounts
    mounts="$(awk -v root="$rootfs/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)"
    for m in $mounts; do umount -l "$m" 2>/dev/null || true; done
    if awk -v root="$rootfs/" 'index($2, root) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
        say "leaving $work in place: something is still mounted below it"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

say "debootstrap $suite from $mirror into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$suite" "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

# pip inside the chroot must trust what the host trusts (e.g. a proxy's CA): the host's bundle
# replaces Debian's for the install and Debian's is put back afterwards.
host_ca=""
for candidate in "${PIP_CERT:-}" "${SSL_CERT_FILE:-}" "${REQUESTS_CA_BUNDLE:-}" \
    /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then host_ca="$candidate"; break; fi
done
[ -n "$host_ca" ] || die "no CA bundle found on the host (set SSL_CERT_FILE)"
debian_ca="$work/debian-ca-certificates.crt"
cp "$rootfs/etc/ssl/certs/ca-certificates.crt" "$debian_ca"
cp -L "$host_ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf" 2>/dev/null || true
cp "$lock" "$rootfs/opt/requirements-lock.txt"

in_root() {
    local pass=()
    for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL \
        PIP_DEFAULT_TIMEOUT; do
        if [ -n "${!var:-}" ]; then pass+=("$var=${!var}"); fi
    done
    chroot "$rootfs" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
        "${pass[@]}" "$@"
}

say "creating $venv from $(basename "$lock") (pip install --no-deps)"
in_root python3 -m venv "$venv"
in_root "$venv/bin/python" -m pip install --no-deps --no-input --disable-pip-version-check --no-cache-dir \
    -r /opt/requirements-lock.txt >"$work/pip.log" 2>&1 || { tail -n 30 "$work/pip.log" >&2; die "pip install failed"; }
version="$(in_root "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))')"
say "localstack-core $version installed"

cp "$debian_ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
: >"$rootfs/etc/resolv.conf"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/root/.cache

say "importing $image"
tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change "CMD [\"$venv/bin/python\",\"-m\",\"localstack.runtime.main\"]" \
    --change "ENV PATH=$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'ENV GATEWAY_LISTEN=0.0.0.0:4566' \
    --change 'ENV SERVICES=s3,ses' \
    --change 'ENV EAGER_SERVICE_LOADING=1' \
    --change 'ENV DNS_ADDRESS=0' \
    --change 'ENV DISABLE_EVENTS=1' \
    --change 'ENV SKIP_SSL_CERT_DOWNLOAD=1' \
    --change 'EXPOSE 4566/tcp' \
    --change 'WORKDIR /opt' \
    --change "LABEL $label=$hash" \
    --change "LABEL org.workbench.localstack.version=$version" \
    - "$image" >/dev/null

if [ -n "$previous_id" ] && [ "$previous_id" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
    docker rmi "$previous_id" >/dev/null 2>&1 || say "the previous $image ($previous_id) is still in use; not removed"
fi
say "built $image (localstack-core $version, lock $hash) in $(($(date +%s) - started)) s"
