"""``python -m properties.auditing audit ...`` is ``nnlaws audit ...``."""

import sys

from properties.auditing.cli import main

sys.exit(main())
