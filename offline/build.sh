#!/usr/bin/env bash
# Build every third-party image the stack needs without any container registry:
# a Debian base made with debootstrap, then one image per offline/<name>/Dockerfile,
# tagged with the names in offline/images.env (the single source of truth).
# Usage: bash offline/build.sh   (root; needs docker and debootstrap)
set -euo pipefail

DEBIAN_SUITE="${DEBIAN_SUITE:-trixie}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
REBUILD="${REBUILD:-0}"   # 1 = debootstrap the base again (and so rebuild every image)
BASE_IMAGE="scale-offline/debian:${DEBIAN_SUITE}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "offline/build.sh: error: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap needs it)"
command -v docker >/dev/null 2>&1 || die "docker is not installed (apt-get install docker.io)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"
docker info >/dev/null 2>&1 || die "cannot reach the docker daemon"
[ -f "${HERE}/images.env" ] || die "missing ${HERE}/images.env"
# BuildKit when the buildx plugin is there, else the classic builder: the Dockerfiles
# need nothing BuildKit-only, and both reuse cached layers.
if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi

# --- 1. base image: minimal Debian root filesystem, imported as an image -------------
cleanup() {
  # debootstrap may bind-mount /dev etc. into the target: unmount before deleting,
  # and never let rm cross into another filesystem.
  [ -n "${root:-}" ] || return 0
  awk -v r="${root}/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l || true
  rm -rf --one-file-system "${root}"
}
trap cleanup EXIT

build_base() {
  root="$(mktemp -d)"
  echo "==> debootstrap ${DEBIAN_SUITE} (${DEBIAN_MIRROR})"
  debootstrap --variant=minbase --include=ca-certificates \
    "${DEBIAN_SUITE}" "${root}" "${DEBIAN_MIRROR}" >/dev/null

  # apt sources: release + updates + security, so images (and the app's own
  # Dockerfiles built on them) can `apt-get update && apt-get install`.
  rm -f "${root}/etc/apt/sources.list"
  cat >"${root}/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${DEBIAN_MIRROR}
Suites: ${DEBIAN_SUITE} ${DEBIAN_SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_SECURITY_MIRROR}
Suites: ${DEBIAN_SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Container conventions of the official debian images: no service starts during
  # package installs, no apt caches, no docs/man pages kept.
  printf '#!/bin/sh\nexit 101\n' >"${root}/usr/sbin/policy-rc.d"
  chmod 755 "${root}/usr/sbin/policy-rc.d"
  printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >"${root}/etc/apt/apt.conf.d/docker-clean"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' >"${root}/etc/dpkg/dpkg.cfg.d/docker-slim"
  rm -rf "${root}"/var/lib/apt/lists/* "${root}"/var/cache/apt/archives/*.deb "${root}"/dev/* \
    "${root}/etc/hostname" "${root}/etc/resolv.conf"

  echo "==> docker import ${BASE_IMAGE}"
  tar --numeric-owner -C "${root}" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' - "${BASE_IMAGE}" >/dev/null
}

if [ "${REBUILD}" = 1 ] || ! docker image inspect "${BASE_IMAGE}" >/dev/null 2>&1; then
  build_base
else
  echo "==> ${BASE_IMAGE} exists (REBUILD=1 to make it again)"
fi

# --- 2. one image per NAME_IMAGE=tag line of images.env, from offline/<name>/ ----------
mapfile -t entries < <(grep -E '^[A-Z_]+_IMAGE=' "${HERE}/images.env")
for entry in "${entries[@]}"; do
  var="${entry%%=*}" tag="${entry#*=}"
  name="${var%_IMAGE}"; name="${name,,}"; name="${name//_/-}"   # POSTGRES_EXPORTER_IMAGE -> postgres-exporter
  [ -f "${HERE}/${name}/Dockerfile" ] || die "no ${HERE}/${name}/Dockerfile for ${var}"
  echo "==> ${tag}  (offline/${name})"
  # Quiet when it works (a cached run is one line per image); full log when it fails.
  if ! log="$(docker build --build-arg BASE_IMAGE="${BASE_IMAGE}" \
              -t "${tag}" "${HERE}/${name}" </dev/null 2>&1)"; then
    printf '%s\n' "${log}" | tail -n 40 >&2
    die "building ${tag} failed"
  fi
done
echo "==> done: $(grep -cE '^[A-Z_]+_IMAGE=' "${HERE}/images.env") images; use them with the variables in offline/images.env"
