#!/bin/sh
# Render runtime files under /tmp, then hand over to the image's own entrypoint (template rendering).
set -eu

mkdir -p /tmp/nginx/conf.d
# A healthcheck socket left by a killed nginx of this container would fail the bind.
rm -f /tmp/nginx/healthz.sock

ops_password=${OPS_PASSWORD:-}
if [ -n "${OPS_PASSWORD_FILE:-}" ]; then
    ops_password=$(cat "$OPS_PASSWORD_FILE")
fi
# The service token nginx adds to /ml/ requests, from a secret's file when one is given (Swarm).
if [ -n "${ML_SERVICE_TOKEN_FILE:-}" ]; then
    ML_SERVICE_TOKEN=$(cat "$ML_SERVICE_TOKEN_FILE")
    export ML_SERVICE_TOKEN
fi
# The htpasswd lives in this container's memory only, next to the secret it is made from.
if [ -n "$ops_password" ]; then
    printf '%s:{PLAIN}%s\n' "${OPS_USER:-ops}" "$ops_password" > /tmp/nginx/ops.htpasswd
else
    : > /tmp/nginx/ops.htpasswd  # no user: every ops route answers 401
fi

# Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (a TLS proxy in front of nginx).
# Empty: nobody's; the client address is the connection's.
: > /tmp/nginx/trusted_proxies.conf
: > /tmp/nginx/trusted_proxies.geo
for range in $(printf '%s' "${TRUSTED_PROXY_RANGES:-}" | tr ',' ' '); do
    case $range in
        *[!0-9A-Fa-f:./]*)
            echo "TRUSTED_PROXY_RANGES: '$range' is not an address or CIDR range" >&2
            exit 1
            ;;
    esac
    printf 'set_real_ip_from %s;\n' "$range" >> /tmp/nginx/trusted_proxies.conf
    printf '%s 1;\n' "$range" >> /tmp/nginx/trusted_proxies.geo
done

# What a limit_req 429 says (templates/limits/): from a rate such as 50r/s or 600r/m, the requests
# per period (X-RateLimit-Limit), the period in seconds (X-RateLimit-Reset: after it, that many
# pass again) and the seconds until the next request passes (Retry-After).
export_rate_limit() {
    name=$1
    rate=$2
    case $rate in
        *r/s) count=${rate%r/s} period=1 ;;
        *r/m) count=${rate%r/m} period=60 ;;
        *) count= ;;
    esac
    case $count in
        '' | *[!0-9]* | 0*)
            echo "$name must be a rate such as 50r/s or 600r/m, not '$rate'" >&2
            exit 1
            ;;
    esac
    export "${name}_LIMIT=$count" "${name}_PERIOD=$period" \
        "${name}_RETRY_AFTER=$(((period + count - 1) / count))"
}
export_rate_limit NGINX_API_RATE "${NGINX_API_RATE:-}"
export_rate_limit NGINX_ML_RATE "${NGINX_ML_RATE:-}"

# How long web's yes to a token for POST /api/predict/ is kept (app.conf, /_edge/auth/predict):
# TOKEN_CACHE_SECONDS, as long as each web process trusts a token it verified; 0 asks every time.
# The cache lives in this container's /tmp (a tmpfs in production): its entries are keyed by the
# Authorization header.
token_cache_seconds=${TOKEN_CACHE_SECONDS:-5}
case $token_cache_seconds in
    '' | *[!0-9]*)
        echo "TOKEN_CACHE_SECONDS must be a whole number of seconds, not '$token_cache_seconds'" >&2
        exit 1
        ;;
    0) echo 'proxy_cache off;' > /tmp/nginx/edge_auth_cache.conf ;;
    *)
        printf '%s\n' 'proxy_cache edge_auth;' 'proxy_cache_key $http_authorization;' \
            "proxy_cache_valid 204 ${token_cache_seconds}s;" 'proxy_cache_lock on;' \
            'proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires;' \
            > /tmp/nginx/edge_auth_cache.conf
        ;;
esac

# scripts/deploy pins the upstreams here during a roll (then `nginx -s reload`); none at start.
: > /tmp/nginx/deploy_upstreams.conf
: > /tmp/nginx/deploy_pins.conf

# NGINX_TLS=on (the prod overlay): HTTPS on 443 and a redirect on 80; otherwise plain HTTP on 80.
case ${NGINX_TLS:-off} in
    on)
        servers=tls
        # Where the redirect sends clients: the published HTTPS port, left out when it is 443.
        https_port=${HTTPS_PORT:-443}
        if [ "$https_port" = 443 ]; then HTTPS_PORT_SUFFIX=""; else HTTPS_PORT_SUFFIX=":$https_port"; fi
        export HTTPS_PORT_SUFFIX
        ;;
    off) servers=plain ;;
    *)
        echo "NGINX_TLS must be on or off, not '$NGINX_TLS'" >&2
        exit 1
        ;;
esac
printf 'include /tmp/nginx/conf.d/servers/%s.conf;\n' "$servers" > /tmp/nginx/servers.conf

echo "textclf-nginx release ${TEXTCLF_VERSION:-dev} (revision ${TEXTCLF_REVISION:-unknown})" >&2
exec /docker-entrypoint.sh "$@"
