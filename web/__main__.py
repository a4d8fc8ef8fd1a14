"""Serve the site: ``python -m web [--host 127.0.0.1] [--port 5000] [--threads 2]`` (waitress), the
same as ``kb serve``. For development with reloading: ``flask --app web run --debug``."""

import sys

from web.cli import main

if __name__ == "__main__":
    sys.exit(main())
