#!/usr/bin/env python3
"""CDK entry point: config of the chosen environment -> monitoring stack -> cdk-nag on every synth.

cdk synth -c env=staging      (default)
cdk synth -c env=production
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.app_builder import build_app
from infra.config import ConfigError


def main() -> int:
    try:
        app = build_app()
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
