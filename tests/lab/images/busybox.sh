#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The lab's small general-purpose image (a shell, so `kubectl exec` into a pod works): Debian's static
# busybox (`apt-get download busybox-static`) unpacked into $CACHE_DIR/lab-images/busybox/root with a link
# per applet. Prints the Debian version, which push.sh uses as the image tag.
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
cat "$DEST/version"
