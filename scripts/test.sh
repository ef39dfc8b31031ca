#!/usr/bin/env bash
# Run the test suite (fast tests; add `-m slow` or `-m "slow or not slow"` for the rest).
# Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ruff check fuelrl tests plugins
exec python -m pytest "$@"
