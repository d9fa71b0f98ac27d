#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The lab's small general-purpose image (a shell, so `kubectl exec` into a pod works): Debian's static
# busybox (`apt-get download busybox-static`) unpacked into $CACHE_DIR/lab-images/busybox/root with a link
# per applet. Prints the Debian version, which push.sh uses as the image tag.
# Also Debian's dynamically linked busybox with the host's libraries it needs, under busybox-dyn/root: the tree of
# the stand-in images. The static build's shell runs its own applets before any PATH lookup (standalone shell), so a
# stand-in could not put a command of upstream's busybox in front of an applet that lacks it (nc -z, images/nc.sh);
# the dynamic build's shell goes by PATH.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEST="$IMG_CACHE/busybox"
ROOT="$DEST/root"
if [ ! -x "$ROOT/bin/busybox" ] || [ ! -s "$DEST/version" ]; then
  need_root
  rm -rf "$DEST" && mkdir -p "$DEST/debs" "$ROOT"
  (cd "$DEST/debs" && apt-get download busybox-static >/dev/null 2>&1) \
    || die "images: apt-get download busybox-static failed (run apt-get update?)"
  dpkg-deb -x "$DEST"/debs/busybox-static_*.deb "$DEST/unpacked"
  install -D -m 0755 "$DEST/unpacked/bin/busybox" "$ROOT/bin/busybox"
  for applet in $("$ROOT/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
  done
  rm -rf "$DEST/unpacked"
  dpkg-deb -f "$DEST"/debs/busybox-static_*.deb Version | sed 's/^[0-9]*://; s/-.*//' > "$DEST/version"   # upstream's: 1.35.0
  "$ROOT/bin/sh" -c 'echo ok' | grep -q ok || die "images: the unpacked busybox does not run"
fi
DYN="$IMG_CACHE/busybox-dyn"
if [ ! -x "$DYN/root/bin/busybox" ]; then
  need_root
  rm -rf "$DYN" && mkdir -p "$DYN/debs" "$DYN/root"
  (cd "$DYN/debs" && apt-get download busybox >/dev/null 2>&1) \
    || die "images: apt-get download busybox failed (run apt-get update?)"
  dpkg-deb -x "$DYN"/debs/busybox_*.deb "$DYN/unpacked"
  install -D -m 0755 "$DYN/unpacked/bin/busybox" "$DYN/root/bin/busybox"
  for applet in $("$DYN/root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$DYN/root/bin/$applet"
  done
  # the loader and libraries (real files at the paths the binary asks for)
  for lib in $(ldd "$DYN/root/bin/busybox" | grep -o '/[^ ]*'); do
    install -D -m 0755 "$(readlink -f "$lib")" "$DYN/root$lib"
  done
  rm -rf "$DYN/unpacked"
  chroot "$DYN/root" /bin/sh -c 'command -v nc' | grep /bin/nc >/dev/null \
    || die "images: the dynamic busybox does not run or its shell does not look nc up in PATH"
fi
cat "$DEST/version"
