#!/usr/bin/env bash
# Create the peer venv for benchmarks/synthesis.py, anomaly.py and imputation.py (idempotent).
#
#   benchmarks/peers/setup_peer.sh            # create or verify benchmarks/.peer-venv
#   benchmarks/peers/setup_peer.sh --force    # delete and recreate it
#   benchmarks/peers/setup_peer.sh --freeze   # recreate without the lock, then rewrite
#                                             # peer-constraints.txt from `pip freeze`
#
# The peer libraries never go into geniot's own venv (.venv): tsgm needs pandas<3 and
# gretel-synthetics declares pins (numpy<1.24, pandas<2, sdv, rdt, ...) that conflict
# with it, so gretel-synthetics is installed with --no-deps and only the runtime needs of
# its timeseries_dgan module are installed (torch, numpy, pandas, scipy, category-encoders).
#
# Env: PYTHON (default python3, must be 3.11), PEER_VENV (default benchmarks/.peer-venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${PEER_VENV:-$ROOT/benchmarks/.peer-venv}"
PY="${PYTHON:-python3}"
LOCK="$HERE/peer-constraints.txt"
STAMP="$VENV/.peer-setup-stamp"

# Direct requirements, exact pins. torch must stay pinned to 2.13.0: it resolves to the
# local CPU wheel; a looser spec pulls a multi-GB CUDA build from PyPI.
REQS=(
  "torch==2.13.0"
  "numpy==2.4.6"
  "pandas==2.3.3"          # tsgm needs pandas<3
  "scipy==1.17.1"
  "category-encoders==2.11.2"
  "keras==3.15.1"
  "tsgm==0.1.0"
  "pyod==3.6.7"            # anomaly benchmark peer (MCD, AutoEncoder)
  "pypots==1.5"            # imputation benchmark peer (SAITS)
)
NODEPS=("gretel-synthetics==0.22.20")

mode="${1:-}"
case "$mode" in
  ""|--force|--freeze) ;;
  *) echo "usage: $0 [--force|--freeze]" >&2; exit 2 ;;
esac

stamp_value() {
  { cat "${BASH_SOURCE[0]}"; [ -f "$LOCK" ] && cat "$LOCK"; } | sha256sum | cut -d' ' -f1
}

if [ -z "$mode" ] && [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] \
   && [ "$(cat "$STAMP")" = "$(stamp_value)" ]; then
  echo "peer venv up to date: $VENV"
  exit 0
fi

"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "need Python 3.11 (set PYTHON=...)" >&2; exit 1; }

rm -rf "$VENV"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
EXTRA=()
[ -d /opt/wheels ] && EXTRA+=(--find-links /opt/wheels)
if [ "$mode" != "--freeze" ] && [ -f "$LOCK" ]; then
  EXTRA+=(-c "$LOCK")
fi

start=$(date +%s)
# One resolve for everything that brings dependencies, then the --no-deps package.
"${PIP[@]}" install "${EXTRA[@]}" "${REQS[@]}"
"${PIP[@]}" install "${EXTRA[@]}" --no-deps "${NODEPS[@]}"

# Smoke test: CPU torch, both peer APIs importable.
KERAS_BACKEND=torch "$VENV/bin/python" - <<'EOF'
import contextlib, sys
import torch
assert torch.__version__.endswith("+cpu"), f"expected the CPU torch wheel, got {torch.__version__}"
from gretel_synthetics.timeseries_dgan.dgan import DGAN  # noqa: F401
from gretel_synthetics.timeseries_dgan.config import DGANConfig  # noqa: F401
with contextlib.redirect_stdout(sys.stderr):
    import keras, tsgm
assert keras.backend.backend() == "torch", keras.backend.backend()
assert hasattr(tsgm.models.cvae, "BetaVAE") and "vae_conv5" in tsgm.models.zoo
with contextlib.redirect_stdout(sys.stderr):
    from pypots.imputation import SAITS  # noqa: F401
    from pyod.models.mcd import MCD  # noqa: F401
print("peer venv ok: torch", torch.__version__, "keras", keras.__version__, "tsgm", tsgm.__version__)
EOF

if [ "$mode" = "--freeze" ]; then
  {
    echo "# pip freeze of benchmarks/.peer-venv, written by setup_peer.sh --freeze"
    echo "# gretel-synthetics is installed with --no-deps: pip check reports its unmet pins on purpose"
    "${PIP[@]}" freeze --exclude-editable
  } > "$LOCK"
  echo "wrote $LOCK"
fi
stamp_value > "$STAMP"
echo "peer venv ready in $(( $(date +%s) - start )) s: $VENV ($(du -sh "$VENV" | cut -f1))"
