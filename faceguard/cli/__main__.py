"""``python -m faceguard.cli``."""

import sys

from faceguard.cli import main

sys.exit(main())
