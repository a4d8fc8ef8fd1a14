"""Build one engine's index in this process (the runner starts it as a subprocess, to time it and
sample its memory): ``python -m bench.build ENGINE FOLDER INPUTS.pickle`` -> JSON on stdout."""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from bench.engines.registry import make

    name, folder, inputs_path = argv
    inputs = pickle.loads(Path(inputs_path).read_bytes())
    engine = make(name, Path(folder))
    started = time.perf_counter()
    engine.build(inputs)
    seconds = time.perf_counter() - started
    print(json.dumps({"engine": name, "seconds": round(seconds, 2), "size_bytes": engine.size_bytes()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
