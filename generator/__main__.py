"""`python -m generator` is the same command as the `paperdigest` console script."""

import sys

from generator.cli import main

sys.exit(main())
