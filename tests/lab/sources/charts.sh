# shellcheck shell=bash
# Packages every fixture chart under tests/charts/*/ into the chart repo and the OCI registry.

: "${LAB_CHARTS_DIR:=$REPO_ROOT/tests/charts}"

# package_charts OUT: one .tgz per chart directory; a chart that does not package is skipped loudly.
package_charts() {
  local out=$1 work chart name
  work=$(mktemp -d)
  for chart in "$LAB_CHARTS_DIR"/*/; do
    [ -f "$chart/Chart.yaml" ] || continue
    name=$(basename "$chart")
    # Work on a copy: dependency builds write charts/ and Chart.lock, which belong to the chart's owner.
    cp -a "$chart" "$work/$name"
    if grep -q '^dependencies:' "$work/$name/Chart.yaml" \
       && ! helm dependency build "$work/$name" >"$work/$name.log" 2>&1; then
      log "sources: skipped chart $name: helm dependency build failed ($(tail -1 "$work/$name.log"))"
      continue
    fi
    if ! helm package "$work/$name" -d "$out" >"$work/$name.log" 2>&1; then
      log "sources: skipped chart $name: $(tail -1 "$work/$name.log")"
    fi
  done
  rm -rf "$work"
}

# publish_charts: rebuild the HTTP repo (new charts appear on every up) and push to the registry.
publish_charts() {
  local stage pkg
  stage="$SRC_DIR/www/charts.new"
  rm -rf "$stage" && mkdir -p "$stage"
  package_charts "$stage"
  helm repo index "$stage"
  rm -rf "$WWW_CHARTS.old"
  if [ -d "$WWW_CHARTS" ]; then mv "$WWW_CHARTS" "$WWW_CHARTS.old"; fi
  mv "$stage" "$WWW_CHARTS"
  rm -rf "$WWW_CHARTS.old"
  for pkg in "$WWW_CHARTS"/*.tgz; do
    [ -e "$pkg" ] || continue
    helm push "$pkg" "oci://127.0.0.1:$LAB_REGISTRY_PORT/charts" --plain-http >/dev/null 2>"$SRC_DIR/push.log" \
      || die "sources: helm push $(basename "$pkg") failed: $(tail -1 "$SRC_DIR/push.log")"
  done
  log "sources: $(find "$WWW_CHARTS" -name '*.tgz' | wc -l) chart(s) in the HTTP repo and the OCI registry"
}
