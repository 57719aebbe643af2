"""Shared test set-up: the repository root is importable (fetch_data.py lives there)."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests draw figures without a screen

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
