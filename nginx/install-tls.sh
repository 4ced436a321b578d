#!/bin/sh
# nginx_tls_init (prod overlay): copy the certificate and key that compose mounts as secrets into
# the nginx_tls volume, the key readable by the nginx user alone.
#
# Compose mounts file secrets with the host file's owner and mode (it ignores uid/gid/mode without
# swarm), so an owner-only key on the host is unreadable by nginx's unprivileged user. This one-shot
# runs as root with only CAP_DAC_READ_SEARCH (to read the key whoever owns it on the host) and
# CAP_CHOWN (to hand the copy to nginx), no network, and exits; nginx itself keeps no capability.
set -eu

src=/run/secrets
dst=/etc/nginx/tls
umask 077

for name in tls.crt tls.key; do
    if [ ! -s "$src/$name" ]; then
        echo "nginx_tls_init: $src/$name is missing or empty: set TLS_CERT_FILE/TLS_KEY_FILE or run make cert" >&2
        exit 1
    fi
done

cat "$src/tls.crt" > "$dst/tls.crt.new"
chmod 0444 "$dst/tls.crt.new"
cat "$src/tls.key" > "$dst/tls.key.new"
# chmod while root still owns the file: after chown that would need CAP_FOWNER.
chmod 0400 "$dst/tls.key.new"
chown nginx:nginx "$dst/tls.key.new"
mv -f "$dst/tls.crt.new" "$dst/tls.crt"
mv -f "$dst/tls.key.new" "$dst/tls.key"
echo "nginx_tls_init: certificate and key installed for nginx"
