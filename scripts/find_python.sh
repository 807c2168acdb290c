# Sourced by the scripts: sets PYTHON to an interpreter that has tunekit's packages, or stops with one line that
# says how to get one. Order: $PYTHON as given; python (or python3) on PATH, as an activated environment gives
# it; the project's own .venv. Only looks for the packages (no import), so it costs a few milliseconds.
has_packages() {
    "$1" -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('transformers') and u.find_spec('torch') else 1)" \
        >/dev/null 2>&1
}
if [ -z "${PYTHON:-}" ]; then
    for candidate in python python3 "$ROOT/.venv/bin/python"; do
        if command -v "$candidate" >/dev/null 2>&1 && has_packages "$candidate"; then
            PYTHON=$candidate
            break
        fi
    done
fi
if [ -z "${PYTHON:-}" ] || ! has_packages "$PYTHON"; then
    echo "error: ${PYTHON:-no python (python, python3 or $ROOT/.venv)} has no transformers and torch: create the" \
         "project's environment (cd $ROOT && python3 -m venv .venv && . .venv/bin/activate && pip install -r" \
         "requirements.txt), activate the one you installed them in, or set PYTHON to its python" >&2
    exit 2
fi
