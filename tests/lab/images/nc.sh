#!/bin/sh
# /usr/local/bin/nc in the lab's stand-in images: upstream busybox's `nc -z [-v] [-w SECS] HOST PORT` (does the port
# accept a connection?) for Debian's busybox, whose nc applet lacks -z: the same TCP connect, closed at once
# (`-e /bin/true`). Any other use goes to the applet unchanged.
case " $* " in *" -z "*) ;; *) exec /bin/nc "$@" ;; esac
wait=2
while [ $# -gt 2 ]; do
  case $1 in
    -w) wait=$2; shift 2 ;;
    -w*) wait=${1#-w}; shift ;;
    *) shift ;;   # -z, -v
  esac
done
exec /bin/nc -w "$wait" "$1" "$2" -e /bin/true
