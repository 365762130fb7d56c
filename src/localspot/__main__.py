"""`python -m localspot` is `localspot`."""

import sys

from localspot.cli import main

sys.exit(main())
