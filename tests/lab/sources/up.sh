#!/usr/bin/env bash
# Chart and package sources of the lab: a private HTTP chart repo (basic auth), an OCI registry,
# a signed apt repo standing in for pkgs.k8s.io and a files mirror. Idempotent; re-indexes charts
# on every run so new fixture charts appear. Writes $LAB_DIR/sources.env.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$LAB_ROOT/sources/common.sh"
source "$LAB_ROOT/sources/charts.sh"
source "$LAB_ROOT/sources/aptrepo.sh"
source "$LAB_ROOT/sources/files.sh"
source "$LAB_ROOT/sources/daemons.sh"

need_root
on_exit() { local rc=$?; if [ "$rc" != 0 ]; then stop_started; fi; exit "$rc"; }
trap on_exit EXIT
missing=""
for pair in nginx:nginx-light docker-registry:docker-registry htpasswd:apache2-utils gpg:gpg \
            dpkg-deb:dpkg apt-ftparchive:apt-utils curl:curl ss:iproute2; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=" ${pair#*:}"
done
[ -z "$missing" ] || die "sources: missing packages, fix with: apt-get install -y$missing"

bash "$LAB_ROOT/helm/install.sh"
# shellcheck source=/dev/null
source "$LAB_DIR/helm.env"
mkdir -p "$SRC_DIR/log" "$WWW_CHARTS" "$WWW_MIRROR/files"
chmod 0755 "$SRC_DIR"

ensure_password
ensure_devstats_secrets
start_registry
start_nginx
publish_charts
publish_apt_repo
publish_files

base="http://127.0.0.1"
vars=(
  "LAB_CHART_REPO_URL=$base:$LAB_CHART_REPO_PORT"
  "LAB_CHART_REPO_USER=$CHART_REPO_USER"
  "LAB_CHART_REPO_PASSWORD_FILE=$PASSWORD_FILE"
  "LAB_OCI_REGISTRY=127.0.0.1:$LAB_REGISTRY_PORT"
  "LAB_OCI_CHARTS_URL=oci://127.0.0.1:$LAB_REGISTRY_PORT/charts"
  "LAB_OCI_REGISTRY_AUTH=127.0.0.1:$LAB_REGISTRY_AUTH_PORT"
  "LAB_APT_BASE_URL=$base:$LAB_MIRROR_PORT"
  "LAB_APT_REPO_URL=$base:$LAB_MIRROR_PORT/$APT_REPO_PATH/"
  "LAB_APT_KEY_URL=$base:$LAB_MIRROR_PORT/$APT_REPO_PATH/Release.key"
  "LAB_APT_PACKAGE_VERSION=$APT_PACKAGE_VERSION"
  "LAB_FILES_URL=$base:$LAB_MIRROR_PORT/files"
  "LAB_HELM_TARBALL_SHA256=$HELM_TARBALL_SHA256"
)
if bridge_up; then
  bridge="http://$LAB_BRIDGE_IP"
  vars+=(
    "LAB_CHART_REPO_URL_BRIDGE=$bridge:$LAB_CHART_REPO_PORT"
    "LAB_OCI_REGISTRY_BRIDGE=$LAB_BRIDGE_IP:$LAB_REGISTRY_PORT"
    "LAB_OCI_REGISTRY_AUTH_BRIDGE=$LAB_BRIDGE_IP:$LAB_REGISTRY_AUTH_PORT"
    "LAB_APT_BASE_URL_BRIDGE=$bridge:$LAB_MIRROR_PORT"
    "LAB_APT_REPO_URL_BRIDGE=$bridge:$LAB_MIRROR_PORT/$APT_REPO_PATH/"
    "LAB_APT_KEY_URL_BRIDGE=$bridge:$LAB_MIRROR_PORT/$APT_REPO_PATH/Release.key"
    "LAB_FILES_URL_BRIDGE=$bridge:$LAB_MIRROR_PORT/files"
  )
fi
write_env sources "${vars[@]}"
log "sources: up ($LAB_DIR/sources.env)"
