# shellcheck shell=bash
# A signed apt repository laid out like Docker's (download.docker.com/linux/debian): dists/<suite>/stable,
# pool/stable, and the ASCII-armored key at /gpg, holding one containerd.io package made the way Docker
# packages it (containerd, its shim, ctr and runc in /usr/bin, a systemd unit, a config.toml conffile that
# disables the CRI plugin) from the lab's release builds. It stands in for Docker's repository, which this
# machine cannot reach.

DOCKER_REPO="$WWW_MIRROR/docker/linux/debian"
DOCKER_SUITE=$LAB_DEBIAN_SUITE
CONTAINERD_IO_VERSION="${LAB_CONTAINERD_VERSION#v}-1~debian.12~$DOCKER_SUITE"

build_containerd_io_deb() {
  local pool="$DOCKER_REPO/pool/stable/c/containerd.io" tarball runc root deb
  tarball="$REL_CACHE/containerd/$LAB_CONTAINERD_VERSION/containerd-${LAB_CONTAINERD_VERSION#v}-linux-amd64.tar.gz"
  runc="$REL_CACHE/runc/$LAB_RUNC_VERSION/runc.amd64"
  deb="$pool/containerd.io_${CONTAINERD_IO_VERSION}_amd64.deb"
  [ -s "$deb" ] && return 0
  root=$(mktemp -d)
  mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/containerd" "$pool"
  tar -xzf "$tarball" -C "$root/usr" bin/containerd bin/containerd-shim-runc-v2 bin/ctr
  install -m 0755 "$runc" "$root/usr/bin/runc"
  cat > "$root/lib/systemd/system/containerd.service" <<'UNIT'
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
UNIT
  # like Docker's package: the CRI plugin is off until the operator's config turns it on
  echo 'disabled_plugins = ["cri"]' > "$root/etc/containerd/config.toml"
  echo /etc/containerd/config.toml > "$root/DEBIAN/conffiles"
  cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl enable containerd.service >/dev/null 2>&1 || true
  systemctl restart containerd.service >/dev/null 2>&1 || true
fi
POSTINST
  chmod 0755 "$root/DEBIAN/postinst"
  cat > "$root/DEBIAN/control" <<CONTROL
Package: containerd.io
Version: $CONTAINERD_IO_VERSION
Architecture: amd64
Maintainer: baremetal.k8s lab <lab@bmk8s.invalid>
Section: devel
Priority: optional
Homepage: https://containerd.io
Depends: libseccomp2 (>= 2.4.0)
Conflicts: containerd, runc
Replaces: containerd, runc
Provides: containerd, runc
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: An open and reliable container runtime
 Built by the baremetal.k8s lab from its containerd $LAB_CONTAINERD_VERSION and runc $LAB_RUNC_VERSION builds,
 packaged like Docker's containerd.io.
CONTROL
  dpkg-deb --root-owner-group -Zgzip -z1 --build "$root" "$deb.tmp" >/dev/null
  mv "$deb.tmp" "$deb"
  rm -rf "$root"
}

publish_docker_repo() {
  local dist="dists/$DOCKER_SUITE"
  build_containerd_io_deb
  ensure_gpg_key
  (
    cd "$DOCKER_REPO" || exit 1
    mkdir -p "$dist/stable/binary-amd64"
    apt-ftparchive packages pool/stable > "$dist/stable/binary-amd64/Packages" 2>/dev/null
    gzip -9nc "$dist/stable/binary-amd64/Packages" > "$dist/stable/binary-amd64/Packages.gz"
    rm -f "$dist/Release" "$dist/InRelease" "$dist/Release.gpg"
    apt-ftparchive -o APT::FTPArchive::Release::Origin=Docker -o APT::FTPArchive::Release::Label=Docker \
      -o APT::FTPArchive::Release::Suite="$DOCKER_SUITE" -o APT::FTPArchive::Release::Codename="$DOCKER_SUITE" \
      -o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components=stable \
      release "$dist" > Release.new
    mv Release.new "$dist/Release"
    gpg --batch --yes --armor --detach-sign -o "$dist/Release.gpg" "$dist/Release"
    gpg --batch --yes --clearsign -o "$dist/InRelease" "$dist/Release"
    gpg --batch --yes --armor --output ./gpg --export
  )
  gpgconf --kill gpg-agent 2>/dev/null || true
  log "releases: Docker-layout apt repo with containerd.io $CONTAINERD_IO_VERSION under $DOCKER_REPO"
}
