"""``python -m hwcost`` runs the ``hwcost`` command."""

import sys

from .cli import main

sys.exit(main())
