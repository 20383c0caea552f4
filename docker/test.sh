#!/usr/bin/env bash
# make docker-test: build the image here and run it against this machine's PostgreSQL.  The
# container migrates an empty database, loads the sample collection, serves, and answers OAI-PMH
# Identify and ListRecords, a search and its readiness probe; the Dockerfile passes hadolint and
# the compose file is checked.  Everything it made is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-}"
PG="${KUTUBXONA_DOCKER_PG:-postgresql+psycopg://postgres@127.0.0.1:5432}"
DB="kx_docker_test_$$"
PORT="${KUTUBXONA_DOCKER_PORT:-18731}"
IMAGE="kutubxona:docker-test"
VOLUME="kx-docker-test-$$"
say() { echo "[docker-test] $*"; }

if ! docker info >/dev/null 2>&1; then  # Debian's docker.io does not start dockerd outside systemd
  (dockerd >/tmp/kutubxona-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi

.venv/bin/hadolint --config docker/.hadolint.yaml docker/Dockerfile
say "hadolint: the Dockerfile passes"

# no registry here: a local Debian base made from the apt mirror (../shared/docker); elsewhere the official one
if [ -z "$BASE" ] && [ -x ../shared/docker/make-base-image.sh ]; then
  ../shared/docker/make-base-image.sh local/debian:bookworm >/dev/null
  BASE=local/debian:bookworm
fi
# pip in the build trusts what this machine trusts (a proxy that re-signs TLS): $PIP_CERT, else the system bundle
CA="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$CA" ]; then cp "$CA" docker/ca/extra.crt; fi
say "building $IMAGE${BASE:+ on $BASE}"
DOCKER_BUILDKIT=0 docker build -q ${BASE:+--build-arg BASE="$BASE"} -f docker/Dockerfile -t "$IMAGE" . >/dev/null

if command -v docker-compose >/dev/null; then
  docker-compose -f docker/compose.yaml config -q
  say "compose.yaml: valid"
fi

psql "${PG/+psycopg/}/postgres" -qc "CREATE DATABASE $DB" >/dev/null
cleanup() {
  docker rm -f "kx-docker-test-$$" >/dev/null 2>&1 || true
  docker volume rm "$VOLUME" >/dev/null 2>&1 || true
  psql "${PG/+psycopg/}/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
}
trap cleanup EXIT
run() {
  docker run --rm --network host -v "$VOLUME:/var/lib/kutubxona" -e KUTUBXONA_DATABASE_URL="$PG/$DB" \
    -e KUTUBXONA_BASE_URL="http://127.0.0.1:$PORT" "$@"
}

run "$IMAGE" kutubxona db upgrade
run "$IMAGE" kutubxona sample load | awk "END { print }"
run "$IMAGE" kutubxona check
run -d --name "kx-docker-test-$$" "$IMAGE" kutubxona serve --host 127.0.0.1 --port "$PORT" >/dev/null
for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 1; done

identify=$(curl -fsS "http://127.0.0.1:$PORT/oai?verb=Identify")
grep -q "<repositoryName>" <<<"$identify" || { echo "Identify failed: $identify"; exit 1; }
records=$(curl -fsS "http://127.0.0.1:$PORT/oai?verb=ListRecords&metadataPrefix=oai_dc")
count=$(grep -o "<record>" <<<"$records" | wc -l)
grep -q "<resumptionToken" <<<"$records" && [ "$count" -eq 100 ] || { echo "ListRecords: $count records"; exit 1; }
total=$(curl -fsS "http://127.0.0.1:$PORT/api/search?q=tarix&size=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['total'])")
[ "$total" -gt 0 ] || { echo "search found nothing"; exit 1; }
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null
logged=$(docker logs "kx-docker-test-$$" 2>&1 | awk "NR == 1")  # awk reads it all: no SIGPIPE
python3 -c "import json,sys; json.loads(sys.argv[1])" "$logged" || { echo "not a JSON log line: $logged"; exit 1; }
say "ok: migrated, sample loaded, Identify, ListRecords ($count records and a token), search ($total hits), ready, JSON logs"
