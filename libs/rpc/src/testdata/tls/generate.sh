#!/usr/bin/env bash
# Regenerates the test-only TLS material (a CA, a server cert for localhost/127.0.0.1, a client
# cert) used by ../../tls.test.ts. Valid for 100 years; never use these keys outside tests.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 -subj "/CN=seal-test-ca" -keyout ca-key.pem -out ca.pem
for who in server client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=seal-test-$who" -keyout "$who-key.pem" -out "$who.csr"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=%s\n' "$([ "$who" = server ] && echo serverAuth || echo clientAuth)" > "$who.ext"
  openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 36500 -extfile "$who.ext" -out "$who.pem"
  rm "$who.csr" "$who.ext"
done
rm -f ca-key.pem ca.srl
