import sys

from kb.cli import kb_main

sys.exit(kb_main())
