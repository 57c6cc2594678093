#!/usr/bin/env bash
# Checks the wheel people would pip-install: builds it from this checkout, installs it with
# its dependencies into a fresh virtual environment in a temporary folder, and runs the
# installed app from there (packaging/wheel_check.py): icons, ring sound and translations
# come from the installed package, and the tray app starts offscreen, rings and exits 0.
#
#   packaging/wheel-check.sh      (after ./scripts/setup; .ci/run runs it)
#
# The wheel is built from an sdist (python -m build, from .venv), so the sdist is checked
# too and nothing left in build/ can slip into the wheel. The fresh environment is made
# with $PYTHON (default python3) and pip's cache, so PySide6 (a few hundred MB) is
# downloaded once per machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
builder=$root/.venv/bin/python
python=${PYTHON:-python3}
[ -x "$builder" ] || { echo "wheel-check: $builder is missing: run ./scripts/setup" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bulutpop-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
step=$SECONDS
took() {
    echo "wheel-check: $1 in $((SECONDS - step)) s"
    step=$SECONDS
}

if ! "$builder" -m build --outdir "$work/dist" "$root" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "wheel-check: python -m build failed" >&2
    exit 1
fi
wheels=("$work"/dist/bulutpop-*.whl)
wheel=${wheels[0]}
[ -f "$wheel" ] || { echo "wheel-check: no wheel in $work/dist" >&2; exit 1; }
took "built $(basename "$wheel")"

"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
took "installed it with its dependencies into a fresh environment"

version=$("$builder" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$root/pyproject.toml")
# -I and a folder outside the checkout: `import bulutpop` can only find the installed one.
(cd "$work" && "$work/venv/bin/python" -I "$root/packaging/wheel_check.py" --version "$version")
took "checked the installed app"
echo "wheel-check: passed in $((SECONDS - start)) s"
