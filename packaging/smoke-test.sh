#!/usr/bin/env bash
# Smoke test of a built Linux bundle, run the way a user's machine runs it: no virtual
# environment, a minimal environment (env -i), its own HOME, config and data folders.
#
#   packaging/smoke-test.sh dist/bulutpop
#
# Checks: --version is pyproject.toml's; `serve` acknowledges a posted event and stores
# it; Europe/Istanbul resolves without the system's zoneinfo (the bundle's tzdata); HTTPS
# verifies against the system's trust store (as root: a test CA is installed there); the
# tray app starts offscreen with QtMultimedia's FFmpeg backend loaded, a second start with
# a tel: link hands it over to the running instance, SIGTERM ends it with exit 0;
# install.sh installs into a home folder and uninstalls cleanly. The HTTP client is the
# system's python3 (standard library only), never the project's environment.
set -euo pipefail

bundle=$(cd "${1:?usage: packaging/smoke-test.sh BUNDLE_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
exe=$bundle/bulutpop
python=${SMOKE_PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3

# The all-zero demo key: a well-formed key no PBX has.
smoke_key=K00000000-0000-0000-0000-000000000000
work=$(mktemp -d "${TMPDIR:-/tmp}/bulutpop-smoke.XXXXXX")
pids=()
system_ca=""  # a test CA put into the system's trust store (removed again at exit)
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -n "$system_ca" ]; then
        rm -f "$system_ca"
        update-ca-certificates --fresh >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
passed=0
pass() {
    passed=$((passed + 1))
    echo "ok: $*"
}
fail() {
    failures=$((failures + 1))
    echo "FAILED: $*"
}
show_log() {
    echo "---- $1" >&2
    grep -v -e 'symbolsresolver' -e 'propagateSizeHints' -e 'does not support raise' "$1" |
        tail -n 40 >&2 || true
    echo "----" >&2
}

mkdir -p "$work/home" "$work/tmp" "$work/runtime"
chmod 700 "$work/runtime"
# What a desktop session would give the app, and nothing from this shell or its venv.
session=(HOME="$work/home" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
    TMPDIR="$work/tmp" XDG_RUNTIME_DIR="$work/runtime"
    BULUTPOP_CONFIG_DIR="$work/config" BULUTPOP_DATA_DIR="$work/data"
    QT_QPA_PLATFORM=offscreen)
run() {
    env -i "${session[@]}" "$@"
}

# python3 -I: isolated, standard library only.
py() {
    "$python" -I -c "$@"
}
free_port() {
    py 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_health PORT SECONDS: prints the seconds it took, fails after SECONDS.
wait_health() {
    py '
import json, sys, time, urllib.request
port, limit = int(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
while time.monotonic() - start < limit:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            if json.load(r)["status"] == "ok":
                print(f"{time.monotonic() - start:.2f}")
                sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
' "$1" "$2"
}
# wait_exit PID SECONDS: the process's exit code, or 124 when it is still running.
wait_exit() {
    local pid=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" && return 0 || return $?
        fi
        sleep 0.1
    done
    return 124
}

# -- 1. version ----------------------------------------------------------------------------
want="bulutpop $(py 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$root/pyproject.toml")"
got=$(run "$exe" --version)
if [ "$got" = "$want" ]; then pass "--version: $got"; else fail "--version printed '$got', expected '$want'"; fi

# -- 2. serve: a posted event is acknowledged and stored -----------------------------------
port=$(free_port)
run "$exe" config set listen_port "$port" >/dev/null
run "$exe" config set extension 1001 >/dev/null
url=$(run "$exe" webhook-url)
# Started with env directly (not through a function), so $! is the app itself.
env -i "${session[@]}" "$exe" serve 2>"$work/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
if seconds=$(wait_health "$port" 30); then
    pass "serve answers /health after ${seconds}s"
    uuid=5e0c6a44-0d1e-4c7b-a1f3-5a7d0c9e1b23
    body="event_type=ringing&domain_id=101&direction=inbound&caller_id_number=02123205062&destination_number=1001&dialed_user=1001&call_uuid=$uuid&start_stamp=2026-11-20+09%3A15%3A02"
    reply=$(py '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
    headers={"Content-Type": "application/x-www-form-urlencoded"})
with urllib.request.urlopen(req, timeout=10) as r:
    print(r.status, r.read().decode().strip())
' "$url" "$body") || reply="(request failed)"
    if [ "$reply" = "200 OK" ]; then pass "serve acknowledged the event: $reply"; else fail "serve answered '$reply'"; fi
    # The scenario files shipped inside the bundle, posted by the bundle's own client.
    if run "$exe" replay --url "$url" >"$work/replay.log" 2>&1; then
        pass "bulutpop replay posted the bundled scenarios ($(wc -l <"$work/replay.log") files)"
    else
        fail "bulutpop replay failed"
        cat "$work/replay.log"
    fi
else
    fail "serve did not answer /health within 30 s"
fi
kill -TERM "$serve_pid" 2>/dev/null || true
if wait_exit "$serve_pid" 10; then pass "serve exited 0 on SIGTERM"; else fail "serve: exit code $? after SIGTERM"; fi
if run "$exe" calls --json | grep -q "$uuid"; then pass "the event is in the store (bulutpop calls)"; else fail "the event is not in the store"; fi
# The PBX's stamps are read in Europe/Istanbul (at import): with the system's zoneinfo
# hidden (an empty PYTHONTZPATH), zoneinfo has only the bundle's tzdata, as on Windows.
if run PYTHONTZPATH= "$exe" calls --json 2>"$work/tz.log" | grep -q "$uuid"; then
    pass "Europe/Istanbul resolves from the bundled tzdata, without the system's zoneinfo"
else
    fail "without the system's zoneinfo, bulutpop calls failed (is tzdata bundled?)"
    show_log "$work/tz.log"
fi
if grep -q Traceback "$work/serve.log"; then
    fail "serve logged a traceback"
    show_log "$work/serve.log"
fi

# HTTPS with the system's trust store: a private CA installed the way Debian expects
# (update-ca-certificates), and OpenSSL's compiled-in certificate paths hidden, as in a
# frozen app run on another distribution: the PBX client must still verify the server.
if [ "$(id -u)" -eq 0 ] && command -v update-ca-certificates >/dev/null && command -v openssl >/dev/null; then
    tls=$work/tls
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bulutpop smoke CA" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$tls/ext"
    openssl x509 -req -days 2 -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
        -CAcreateserial -extfile "$tls/ext" -out "$tls/server.crt" 2>/dev/null
    system_ca=/usr/local/share/ca-certificates/bulutpop-smoke-$$.crt
    cp "$tls/ca.crt" "$system_ca"
    update-ca-certificates >/dev/null 2>&1
    tls_port=$(free_port)
    # The PBX's phonebook, one contact, over HTTPS (python itself in the background, not
    # the py function's subshell: killing that would leave the server running).
    "$python" -I -c '
import http.server, json, ssl, sys
class Phonebook(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"contacts": [{"id": "1", "name": "Ayşe", "phone": "05321234567"}],
                           "pagination": {"page": 1, "total_pages": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Phonebook)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
' "$tls_port" "$tls/server.crt" "$tls/server.key" &
    tls_pid=$!
    pids+=("$tls_pid")
    if run SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent BULUTPOP_API_KEY="$smoke_key" \
        BULUTPOP_API_URL="https://localhost:$tls_port" "$exe" contacts sync >"$work/tls.log" 2>&1 &&
        grep -q "1 contacts" "$work/tls.log"; then
        pass "HTTPS to a server of a CA in the system's trust store (OpenSSL's own paths hidden)"
    else
        fail "HTTPS with the system's trust store"
        show_log "$work/tls.log"
    fi
    { kill "$tls_pid" && wait "$tls_pid"; } 2>/dev/null || true
else
    echo "skipped: HTTPS with the system's trust store (needs root, openssl and update-ca-certificates)"
fi

# Team mode's modules (MQTT client included) are in the bundle: a damaged invite is
# refused as bad input (2), not as a missing module (1).
if run "$exe" team join bulutpop-team:damaged >/dev/null 2>"$work/team.log"; then
    status=0
else
    status=$?
fi
if [ "$status" -eq 2 ] && grep -q "copy the whole line again" "$work/team.log"; then
    pass "team join refuses a damaged invite (team mode is bundled)"
else
    fail "team join: exit code $status"
    show_log "$work/team.log"
fi

# -- 3. the tray app: starts offscreen, takes a tel: link over, quits on SIGTERM -----------
gui_env=("BULUTPOP_API_KEY=$smoke_key"
    "QT_LOGGING_RULES=qt.multimedia.ffmpeg.info=true")
env -i "${session[@]}" "${gui_env[@]}" "$exe" 2>"$work/gui.log" &
gui_pid=$!
pids+=("$gui_pid")
if seconds=$(wait_health "$port" 30); then
    pass "the tray app's receiver answers /health after ${seconds}s"
else
    fail "the tray app did not answer /health within 30 s"
fi
link=tel:+905321234567
if run "${gui_env[@]}" timeout 20 "$exe" "$link" 2>"$work/second.log"; then
    pass "a second start with $link exited 0"
else
    fail "a second start with $link: exit code $?"
    show_log "$work/second.log"
fi
for _ in $(seq 50); do
    grep -q "handed over: $link" "$work/gui.log" && break
    sleep 0.1
done
if grep -q "handed over: $link" "$work/gui.log"; then
    pass "the running instance got $link"
else
    fail "the running instance did not log 'handed over: $link'"
fi
# A call rings: the popup's ring sound loads QtMultimedia (not loaded at start, to keep an
# idle app small) with the bundle's FFmpeg backend.
# Ringing now: the app pops up and rings only for news, never for a call long begun.
now=$(TZ=Europe/Istanbul date +%Y-%m-%d+%H%%3A%M%%3A%S)
ring="event_type=ringing&domain_id=101&direction=inbound&caller_id_number=02123205062&destination_number=1001&dialed_user=1001&call_uuid=smoke-ring-1&start_stamp=$now"
py '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
    headers={"Content-Type": "application/x-www-form-urlencoded"})
urllib.request.urlopen(req, timeout=10).read()
' "$url" "$ring" || fail "the tray app's receiver refused a ringing event"
for _ in $(seq 100); do
    grep -q "Using Qt multimedia with FFmpeg" "$work/gui.log" && break
    sleep 0.1
done
kill -TERM "$gui_pid" 2>/dev/null || true
if wait_exit "$gui_pid" 10; then pass "the tray app exited 0 on SIGTERM"; else fail "the tray app: exit code $? after SIGTERM (124: still running after 10 s)"; fi
if grep -q "Using Qt multimedia with FFmpeg" "$work/gui.log"; then
    pass "QtMultimedia's FFmpeg backend loaded"
else
    fail "QtMultimedia's FFmpeg backend did not load on a ring (no ring sound, no recordings)"
fi
for bad in "no ring sound" "No QtMultimedia backends found" "Traceback" "Could not load the Qt platform plugin"; do
    if grep -q "$bad" "$work/gui.log"; then fail "the tray app logged '$bad'"; fi
done
[ "$failures" -eq 0 ] || show_log "$work/gui.log"

# -- 4. install.sh into a home folder, and back out ----------------------------------------
home=$work/install-home
mkdir -p "$home"
installed() {
    env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
}
if installed sh "$bundle/install.sh" >"$work/install.log" 2>&1; then
    pass "install.sh installed into a fresh home"
else
    fail "install.sh failed"
    cat "$work/install.log" >&2
fi
entry=$home/.local/share/applications/bulutpop.desktop
if [ "$(installed "$home/.local/bin/bulutpop" --version 2>&1)" = "$want" ]; then
    pass "the installed launcher runs"
else
    fail "the installed launcher does not run"
fi
if grep -qx "Exec=\"$home/.local/lib/bulutpop/bulutpop\" %u" "$entry" &&
    grep -q "^MimeType=x-scheme-handler/tel;x-scheme-handler/callto;$" "$entry"; then
    pass "the desktop entry runs the installed app for tel: and callto:"
else
    fail "the installed desktop entry is wrong: $(grep -e ^Exec -e ^MimeType "$entry" || echo missing)"
fi
if command -v desktop-file-validate >/dev/null; then
    if desktop-file-validate "$entry"; then pass "desktop-file-validate: installed entry"; else fail "desktop-file-validate"; fi
fi
metainfo=$home/.local/share/metainfo/io.github.bulutpop.metainfo.xml
if command -v appstreamcli >/dev/null; then
    if appstreamcli validate --no-net "$metainfo" >"$work/appstream.log" 2>&1; then
        pass "appstreamcli validate: installed metainfo"
    else
        fail "appstreamcli validate"
        cat "$work/appstream.log" >&2
    fi
fi
if grep -qx "x-scheme-handler/tel=bulutpop.desktop" "$home/.config/mimeapps.list"; then
    pass "bulutpop is the default handler of tel: links"
else
    fail "mimeapps.list does not name bulutpop for tel:"
fi
if [ -f "$home/.local/share/icons/hicolor/48x48/apps/bulutpop.png" ] &&
    [ -f "$home/.local/share/icons/hicolor/scalable/apps/bulutpop.svg" ]; then
    pass "icons installed"
else
    fail "icons missing"
fi
installed sh "$home/.local/lib/bulutpop/install.sh" --uninstall >>"$work/install.log" 2>&1 ||
    fail "install.sh --uninstall failed"
left=$(cd "$home" && find . -name 'bulutpop*' | sort | tr '\n' ' ')
if [ -z "$left" ] && ! grep -q bulutpop "$home/.config/mimeapps.list"; then
    pass "install.sh --uninstall removed everything"
else
    fail "left behind after --uninstall: ${left:-mimeapps.list entries}"
fi

echo "smoke: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
