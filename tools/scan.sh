#!/usr/bin/env bash
# A bounded scan of the running application with an external scanner from Debian
# (wapiti; nikto is not in Debian bookworm's main archive). Everything stays on 127.0.0.1:
# a throw-away database and document folder under $SCAN_DIR, served like `make run`
# (development settings: over plain HTTP the production cookies, which are Secure, would
# never come back), one anonymous scan and one logged in as the directorate.
#
#   tools/scan.sh              # writes test-artifacts/scan.txt
#   SCAN_SECONDS=120 tools/scan.sh
#
# Modules that call out to the internet (nikto's database download, wapp, ssrf, xxe)
# are left out: this machine reaches no other host, and the scan must not either.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${SCAN_PORT:-5055}
DIR=${SCAN_DIR:-/tmp/scan}
MAX=${SCAN_SECONDS:-240}
OUT=test-artifacts/scan.txt
MODULES=${SCAN_MODULES:-backup,blindsql,buster,cookieflags,crlf,csp,csrf,exec,file,htaccess,http_headers,methods,permanentxss,redirect,shellshock,sql,xss}
BASE="http://127.0.0.1:$PORT"

if ! command -v wapiti >/dev/null; then
  apt-get install -y wapiti >/dev/null
fi

rm -rf "$DIR"
mkdir -p "$DIR" test-artifacts
export APP_ENV=development
export SECRET_KEY="scan-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export DATABASE_URL="sqlite:///$DIR/app.db" UPLOAD_DIR="$DIR/documents" SMS_LOG_FILE="$DIR/sms.log"
export SMS_BACKEND=log
# The app as `make run` builds it, but without the demo accounts: init-db would otherwise
# write their passwords to the checkout's instance/demo-accounts.txt.
cat >"$DIR/scan_app.py" <<PY
import sys
sys.path.insert(0, "$PWD")
from app import create_app
app = create_app({"SEED_DEMO_DATA": False})
PY
export FLASK_APP="$DIR/scan_app.py"
STAFF_PASSWORD="Scan-Ramz-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"

.venv/bin/flask init-db >"$DIR/init.log"
.venv/bin/flask create-staff --username scanner --password "$STAFF_PASSWORD" --role directorate >>"$DIR/init.log"
.venv/bin/flask create-distributor --username scanco --password "$STAFF_PASSWORD" --name "شرکت اسکن" \
  --kind company --manager-mobile 09120000000 >>"$DIR/init.log"

.venv/bin/flask run --host 127.0.0.1 --port "$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "$BASE/" && break
  sleep 0.2
done

# The directorate's session, logged in through the real form (with its CSRF token), as
# a wapiti cookie file.
.venv/bin/python - "$BASE" "$STAFF_PASSWORD" "$DIR/cookies.json" <<'PY'
import http.cookiejar, json, re, sys, urllib.parse, urllib.request
base, password, out = sys.argv[1:]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(base + "/admin/login").read().decode()
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
data = urllib.parse.urlencode({"username": "scanner", "password": password, "csrf_token": token}).encode()
opener.open(base + "/admin/login", data=data)
cookies = {}
for c in jar:
    cookies.setdefault("127.0.0.1", {}).setdefault("/", {})[c.name] = {
        "value": c.value, "version": 0, "expires": None, "secure": False, "port": None}
json.dump(cookies, open(out, "w"))
PY

# Debian's wapiti 3.0.4 cannot compile its -x patterns under Python 3.11 ("global flags not
# at the start"): run it with that one function fixed.
cat >"$DIR/wapiti_fixed.py" <<'PY'
import re, sys
import wapitiCore.net.crawler as crawler
crawler.wildcard_translate = lambda pattern: re.compile(
    "(?ms)" + "".join(".*" if ch == "*" else re.escape(ch) for ch in pattern) + r"\Z")
from wapitiCore.main.wapiti import wapiti_main
sys.argv[0] = "wapiti"
sys.exit(wapiti_main())
PY

EXCLUDES=(-x "$BASE/officer/logout" -x "$BASE/distributor/logout" -x "$BASE/admin/logout" -x "$BASE/lang/*")
run_scan() {
  local name=$1; shift
  # --max-scan-time bounds the crawl, --max-attack-time each module; the timeout is a last resort.
  timeout $((MAX + 900)) /usr/bin/python3 "$DIR/wapiti_fixed.py" -u "$BASE/" --scope folder -m "$MODULES" --flush-session \
    --store-session "$DIR/session-$name" --store-config "$DIR/config-$name" \
    --max-scan-time "$MAX" --max-attack-time "${SCAN_ATTACK_SECONDS:-30}" -t 10 -f txt -o "$DIR/$name.txt" "${EXCLUDES[@]}" "$@" \
    >"$DIR/$name.log" 2>&1 || echo "wapiti ($name) exited with $?" >>"$DIR/$name.log"
}
run_scan anonymous
run_scan directorate -c "$DIR/cookies.json" -s "$BASE/admin/"

{
  echo "# wapiti $(wapiti --version 2>/dev/null | tail -1) on $BASE, $(date -u +%FT%TZ)"
  echo "# modules: $MODULES; at most $MAX s per scan; APP_ENV=development (like make run), plain HTTP on 127.0.0.1"
  for name in anonymous directorate; do
    echo
    echo "################ $name"
    cat "$DIR/$name.txt" 2>/dev/null || tail -20 "$DIR/$name.log"
  done
  echo
  echo "################ server errors during the scan"
  echo "responses with status 500: $(grep -c '" 500 ' "$DIR/server.log" || true)"
  grep -E "Traceback \(most recent|ERROR in " "$DIR/server.log" | head -40 || true
} >"$OUT"
echo "scan written to $OUT"
