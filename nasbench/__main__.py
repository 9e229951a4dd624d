"""Allow ``python -m nasbench``."""

import sys

try:
    from nasbench.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line loads: one line, as main() says it
    print("nasbench: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
