"""`python -m tools.alarm_report`: see tools/alarm_report/cli.py."""

import sys

from tools.alarm_report.cli import main

sys.exit(main())
