"""`python -m falcolite`."""

import sys

from .cli import main

sys.exit(main())
