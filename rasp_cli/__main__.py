"""`python -m rasp_cli`: the `rasp` command."""

import sys

from . import main

sys.exit(main())
