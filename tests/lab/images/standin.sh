#!/bin/sh
# The lab's stand-in for an upstream application image (tests/lab/images/push.sh bakes one per image named in
# LAB_STANDIN_IMAGES, with LAB_STANDIN_MODE): nothing of the application runs, only what makes its chart's
# workload count as ready to Kubernetes and helm --wait. Arguments (the chart's command/args) are ignored.
#   idle         wait until stopped (Deployments, DaemonSets, StatefulSets without probes)
#   exit         succeed at once (a chart's Jobs: certificate generators, API checks)
#   http:PORT    answer HTTP 200 on PORT for /healthz, /readyz, /livez (the chart's probes), else as idle
# LAB_STANDIN_EXIT_ON (words): run-to-completion steps of an image whose long-running containers use the same
# image (a migration init container, an initializer Job): when the command's name or the first argument is one of
# them, succeed at once whatever the mode.
trap 'exit 0' TERM INT
for word in ${LAB_STANDIN_EXIT_ON:-}; do
  [ "${0##*/}" != "$word" ] && [ "${1:-}" != "$word" ] || exit 0
done
case "${LAB_STANDIN_MODE:-idle}" in
  exit) exit 0 ;;
  http:*)
    mkdir -p /tmp/lab-standin-www
    for f in healthz readyz livez; do echo ok > "/tmp/lab-standin-www/$f"; done
    httpd -p "${LAB_STANDIN_MODE#http:}" -h /tmp/lab-standin-www
    ;;
esac
echo "lab-standin: ${LAB_STANDIN_MODE:-idle} in place of $0 $*"
while :; do sleep 5 & wait $!; done
