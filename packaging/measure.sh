#!/usr/bin/env bash
# Numbers for a built bundle next to the same code run from the virtual environment
# (`python -m bulutpop`), measured in the same run. Run by hand; prints a Markdown table.
#
#   packaging/measure.sh [dist/bulutpop] [RUNS]
#
# Start-up of `--version` with hyperfine when it is installed (Debian: hyperfine), else a
# loop; "cold" rows drop the page cache first and appear only where that is allowed
# (root, /proc/sys/vm/drop_caches writable). "Tray app to /health" starts the app
# offscreen and times until its webhook receiver answers, then stops it with SIGTERM.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(cd "${1:-$root/dist/bulutpop}" && pwd)
runs=${2:-10}
exe=$bundle/bulutpop
venv_python=$root/.venv/bin/python
python=/usr/bin/python3
[ -x "$python" ] || python=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bulutpop-measure.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/runtime" && chmod 700 "$work/runtime"
export BULUTPOP_CONFIG_DIR=$work/config BULUTPOP_DATA_DIR=$work/data
export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$work/runtime TMPDIR=$work
export BULUTPOP_API_KEY=K00000000-0000-0000-0000-000000000000
export QT_LOGGING_RULES='qt.multimedia.*=false'

port=$("$python" -I -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$exe" config set listen_port "$port" >/dev/null
"$exe" config set extension 1001 >/dev/null

can_drop_caches=no
if [ -w /proc/sys/vm/drop_caches ] && (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    can_drop_caches=yes
fi
drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

# time_version COLD COMMAND…: median (and fastest) wall time of COMMAND --version.
time_version() {
    local cold=$1
    shift
    if command -v hyperfine >/dev/null; then
        local prepare=(--warmup 3)
        [ "$cold" = yes ] && prepare=(--prepare "sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'")
        hyperfine -N --style none --runs "$runs" \
            "${prepare[@]}" --export-json "$work/h.json" "$* --version" >/dev/null
        "$python" -I -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.2f s (min %.2f)" % (r["median"], r["min"]))' "$work/h.json"
    else
        local i times=()
        for ((i = 0; i < runs; i++)); do
            [ "$cold" = yes ] && drop_caches
            times+=("$("$python" -I -c '
import subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - start)' "$@" --version)")
        done
        printf '%s\n' "${times[@]}" | sort -n |
            awk '{ a[NR] = $1 } END { printf "%.2f s (min %.2f)\n", a[int((NR + 1) / 2)], a[1] }'
    fi
}

# time_health COLD COMMAND…: median (and fastest) time from start to /health, and the median
# RSS (MB) then. On a shared machine the fastest run is the least disturbed one.
time_health() {
    local cold=$1
    shift
    "$python" -I - "$cold" "$port" "$runs" "$@" <<'EOF'
import json, os, signal, statistics, subprocess, sys, time, urllib.request

cold, port, runs, command = sys.argv[1] == "yes", int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
times, rss = [], []
for _ in range(runs):
    if cold:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
    start = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if json.load(r)["status"] == "ok":
                    break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 60:
                sys.exit(f"{command} did not come up")
            time.sleep(0.01)
    times.append(time.perf_counter() - start)
    with open(f"/proc/{proc.pid}/status") as fh:
        rss += [int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:")]
    proc.send_signal(signal.SIGTERM)
    if proc.wait(timeout=15) != 0:
        sys.exit(f"{command} exited {proc.returncode} on SIGTERM")
print(f"{statistics.median(times):.2f} {min(times):.2f} {statistics.median(rss):.0f}")
EOF
}

echo "bulutpop $("$exe" --version | cut -d' ' -f2), $(uname -sm), $(nproc) cores," \
    "load average $(cut -d' ' -f1 /proc/loadavg), median (fastest) of $runs runs"
echo
echo "| what | bundle | python -m bulutpop |"
echo "| --- | --- | --- |"
size=$(du -sh "$bundle" | cut -f1)
archive=$(find "$root/dist" -maxdepth 1 -name 'bulutpop-*.tar.gz' -newer "$exe" 2>/dev/null | head -n 1)
echo "| size on disk | $size$([ -n "$archive" ] && echo " ($(du -sh "$archive" | cut -f1) as .tar.gz)") | (the venv: $(du -sh "$root/.venv" | cut -f1)) |"
echo "| \`--version\`, warm | $(time_version no "$exe") | $(time_version no "$venv_python" -m bulutpop) |"
if [ "$can_drop_caches" = yes ]; then
    echo "| \`--version\`, cold cache | $(time_version yes "$exe") | $(time_version yes "$venv_python" -m bulutpop) |"
fi
read -r b_time b_min b_rss < <(time_health no "$exe")
read -r v_time v_min v_rss < <(time_health no "$venv_python" -m bulutpop)
echo "| tray app to /health, warm | $b_time s (min $b_min) | $v_time s (min $v_min) |"
echo "| RSS at /health | $b_rss MB | $v_rss MB |"
if [ "$can_drop_caches" = yes ]; then
    read -r b_time b_min _ < <(time_health yes "$exe")
    read -r v_time v_min _ < <(time_health yes "$venv_python" -m bulutpop)
    echo "| tray app to /health, cold cache | $b_time s (min $b_min) | $v_time s (min $v_min) |"
fi
if [ "$can_drop_caches" = no ]; then
    echo
    echo "(no cold-cache rows: /proc/sys/vm/drop_caches is not writable here)"
fi
