#!/bin/sh
# Render runtime files under /tmp, then hand over to the image's own entrypoint (template rendering).
set -eu

mkdir -p /tmp/nginx/conf.d /tmp/nginx/client_body /tmp/nginx/proxy

ops_password=${OPS_PASSWORD:-}
if [ -n "${OPS_PASSWORD_FILE:-}" ]; then
    ops_password=$(cat "$OPS_PASSWORD_FILE")
fi
# The htpasswd lives in this container's memory only, next to the secret it is made from.
if [ -n "$ops_password" ]; then
    printf '%s:{PLAIN}%s\n' "${OPS_USER:-ops}" "$ops_password" > /tmp/nginx/ops.htpasswd
else
    : > /tmp/nginx/ops.htpasswd  # no user: every ops route answers 401
fi

exec /docker-entrypoint.sh "$@"
