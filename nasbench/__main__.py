"""Allow ``python -m nasbench``."""

from nasbench.cli import main

raise SystemExit(main())
