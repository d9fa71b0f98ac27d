# shellcheck shell=bash
# nginx (chart repo with basic auth + apt/files mirror) and docker-registry (OCI charts), run directly
# with lab-owned configs, pidfiles and logs under $SRC_DIR.

ensure_password() {
  if [ ! -s "$PASSWORD_FILE" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$PASSWORD_FILE")
  fi
  chmod 0600 "$PASSWORD_FILE"
  # htpasswd reads the password from stdin (-i), never from the command line.
  htpasswd -c -i -B "$HTPASSWD_FILE.new" "$CHART_REPO_USER" < "$PASSWORD_FILE" 2>/dev/null
  chown root:www-data "$HTPASSWD_FILE.new" && chmod 0640 "$HTPASSWD_FILE.new"
  mv "$HTPASSWD_FILE.new" "$HTPASSWD_FILE"
}

# ensure_devstats_secrets: the NAME.secret files the lab inventory's DevStats install reads (devstats_secrets_dir),
# random once per lab, with their NAME.secret.example counterparts as the chart's secrets/ directory has them.
ensure_devstats_secrets() {
  local dir="$SRC_DIR/devstats-secrets" name
  mkdir -p "$dir" && chmod 0700 "$dir"
  for name in PG_ADMIN_USER PG_HOST PG_HOST_RO PG_PASS PG_PASS_RO PG_PASS_TEAM PG_PASS_REP PG_PORT PG_USER_RO \
              GHA2DB_GITHUB_OAUTH GF_SECURITY_ADMIN_USER GF_SECURITY_ADMIN_PASSWORD; do
    [ -s "$dir/$name.secret" ] && continue
    if [ "$name" = PG_PORT ]; then echo 5432; else head -c 12 /dev/urandom | base64 | tr '+/' '-_'; fi \
      | (umask 077 && cat > "$dir/$name.secret")
    echo "example-$name" > "$dir/$name.secret.example"
  done
}
