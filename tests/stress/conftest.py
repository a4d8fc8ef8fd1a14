import sys
from pathlib import Path

# The campaigns import their shared settings (stress_config) and tests/support.py by name.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
