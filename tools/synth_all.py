"""Synthesize every environment's templates without bundling the Lambda asset (fast, offline).

    python -m tools.synth_all --out build/templates [--config-dir config]

Same stacks, config and cdk-nag gate as `cdk synth`; only the asset is not pip-installed. Every stack of the
app is written: the home stack, and one probe stack per `synthetics.probe_regions` when configured. Used by
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
from infra.config import CONFIG_DIR, ENVIRONMENTS, ConfigError, load_config
from infra.stack import stack_name


def synth_templates(
    out: Path, environments: tuple[str, ...] = ENVIRONMENTS, *, config_dir: Path = CONFIG_DIR
) -> list[Path]:
    """Write `<stack>.template.json` for every stack of each environment into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for environment in environments:
        with tempfile.TemporaryDirectory(prefix=f"synth-{environment}-") as assembly_dir:
            app = build_app(environment, outdir=assembly_dir, bundle_assets=False, config_dir=config_dir)
            assembly = app.synth()
            for stack in assembly.stacks:
                target = out / Path(stack.template_full_path).name
                shutil.copyfile(stack.template_full_path, target)
                written.append(target)
    return written


def synth_home_template(out: Path, environment: str, *, config_dir: Path = CONFIG_DIR) -> Path:
    """The environment's home stack template (its alarms, topics, dashboard), whatever probe stacks the app has."""
    home = f"{stack_name(load_config(environment, config_dir))}.template.json"
    (path,) = [path for path in synth_templates(out, (environment,), config_dir=config_dir) if path.name == home]
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/templates"))
    parser.add_argument("--env", choices=ENVIRONMENTS, action="append", help="default: every environment")
    parser.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help="where <env>.yaml is (default: config/)")
    args = parser.parse_args(argv)
    try:
        paths = synth_templates(args.out, tuple(args.env or ENVIRONMENTS), config_dir=args.config_dir)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"synthesized {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
