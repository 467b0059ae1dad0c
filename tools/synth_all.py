"""Synthesize every environment's template without bundling the Lambda asset (fast, offline).

    python -m tools.synth_all --out build/templates

Same stacks, config and cdk-nag gate as `cdk synth`; only the asset is not pip-installed. Used by
`make lint` (cfn-lint) and the local demo (which reads the real alarm definitions from these files).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.app_builder import build_app
from infra.config import ENVIRONMENTS, ConfigError


def synth_templates(out: Path, environments: tuple[str, ...] = ENVIRONMENTS) -> list[Path]:
    """Write `<stack>.template.json` for each environment into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for environment in environments:
        with tempfile.TemporaryDirectory(prefix=f"synth-{environment}-") as assembly_dir:
            assembly = build_app(environment, outdir=assembly_dir, bundle_assets=False).synth()
            for stack in assembly.stacks:
                target = out / Path(stack.template_full_path).name
                shutil.copyfile(stack.template_full_path, target)
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/templates"))
    parser.add_argument("--env", choices=ENVIRONMENTS, action="append", help="default: every environment")
    args = parser.parse_args(argv)
    try:
        paths = synth_templates(args.out, tuple(args.env or ENVIRONMENTS))
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"synthesized {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
