"""``python -m infusion.engine.cli``: the ``infusion`` command."""
import sys

from . import main

sys.exit(main())
