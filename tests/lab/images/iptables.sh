#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The iptables userland for the kube-proxy image: Debian's iptables (nf_tables backend, as the lab hosts
# use), nft (kube-proxy's nftables mode, and its start-up clean-up of that mode's rules) and the libraries they link, unpacked from the packages (`apt-get download`) into
# $CACHE_DIR/lab-images/iptables/root, with the links the alternatives system would make.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEST="$IMG_CACHE/iptables"
ROOT="$DEST/root"
PKGS=(libc6 libgcc-s1 iptables libip4tc2 libip6tc2 libxtables12 libnetfilter-conntrack3 libnfnetlink0
      libnftnl11 libmnl0 conntrack nftables libnftables1 libedit2 libbsd0 libmd0 libtinfo6 libgmp10 libjansson4)
STAMP=$(printf '%s\n' "${PKGS[@]}" | sha256sum | cut -c1-16)
[ "$(cat "$DEST/.packages" 2>/dev/null)" = "$STAMP" ] && chroot "$ROOT" /usr/sbin/iptables --version >/dev/null 2>&1 && exit 0
need_root
log "images: unpacking Debian's iptables for the kube-proxy image"
rm -rf "$DEST" && mkdir -p "$DEST/debs" "$ROOT"
(cd "$DEST/debs" && apt-get download "${PKGS[@]}" >/dev/null) \
  || die "images: apt-get download ${PKGS[*]} failed (run apt-get update?)"
for deb in "$DEST"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
rm -rf "$ROOT/usr/share/doc" "$ROOT/usr/share/man" "$ROOT/usr/share/lintian" "$ROOT/usr/share/locale" \
  "$ROOT/usr/lib/x86_64-linux-gnu/gconv"
for t in iptables ip6tables; do
  for s in "" -save -restore; do ln -sf xtables-nft-multi "$ROOT/usr/sbin/$t$s"; done
done
chroot "$ROOT" /usr/sbin/iptables --version | grep -q nf_tables || die "images: unpacked iptables does not run"
chroot "$ROOT" /usr/sbin/nft --version >/dev/null || die "images: unpacked nft does not run"
echo "$STAMP" > "$DEST/.packages"
log "images: iptables for kube-proxy in $ROOT ($(du -sh "$ROOT" | cut -f1))"
