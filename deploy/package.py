"""Build the deployable stack: `make package STAGE=dev|prod` (or `python -m deploy.package`).

Runs `chalice package --stage STAGE --merge-template .chalice/merge-template.yaml` and
writes `sam.yaml` (CloudFormation/SAM) and `deployment.zip` (the Lambda code) into the
output folder. Needs the Python package index (pip fetches Linux wheels), never AWS.

Chalice zips `app.py`, everything under `chalicelib/` and the requirements. It is run
on a clean copy of exactly those (plus `.chalice/` config and policies) so nothing else
from a checkout can end up in the zip: no `__pycache__`, no operator command line
(`chalicelib/cli`), no tests, sandbox or dev tools. The copy follows file symlinks, so
the bundled field map holds the real YAML.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MERGE_TEMPLATE = Path(".chalice") / "merge-template.yaml"
TEMPLATE = "sam.yaml"
ZIP = "deployment.zip"
# Never shipped: bytecode from a developer's machine, and the operator's command line.
LEFT_OUT = ("__pycache__", "*.pyc", "*.pyo")
OPERATOR_ONLY = ("cli",)
# The Lambda Python runtime has boto3 and botocore; aws-xray-sdk (for Powertools Tracer) pulls
# botocore in as a dependency, 16 MB of the zip for a copy the runtime already has.
RUNTIME_PROVIDED = re.compile(r"^(botocore|botocore-[^/]+\.dist-info)/")
RATE_HOURS = re.compile(r"rate\((\d+) hours?\)")
DEFAULT_REGION = "us-east-1"  # chalice needs one to package; the template uses ${AWS::Region}


def stages(project: Path = ROOT) -> list[str]:
    config = json.loads((project / ".chalice" / "config.json").read_text())
    return sorted(config.get("stages", {}))


def build(stage: str, out: Path, *, project: Path = ROOT) -> Path:
    """Package `project` for `stage` into `out` (replaced); returns the template's path."""
    if stage not in stages(project):
        raise SystemExit(f"Unknown stage {stage!r}: .chalice/config.json has {', '.join(stages(project))}.")
    out = out.resolve()
    source = out.parent / f"{out.name}.src"
    _stage_sources(project, source)
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(  # noqa: S603 (the venv's chalice, our arguments)
        [
            _chalice(),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(project / MERGE_TEMPLATE),
            str(out),
        ],
        cwd=source,
        env=_packaging_env(stage),
        check=True,
    )
    template = out / TEMPLATE
    _finish_template(template, stage)
    _drop_runtime_provided(out / ZIP)
    return template


def _drop_runtime_provided(zip_path: Path) -> None:
    """Rewrite the zip without the packages the Lambda runtime provides (RUNTIME_PROVIDED)."""
    slim = zip_path.with_suffix(".slim.zip")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not RUNTIME_PROVIDED.match(info.filename):
                target.writestr(info, source.read(info))
    slim.replace(zip_path)


def _stage_sources(project: Path, source: Path) -> None:
    shutil.rmtree(source, ignore_errors=True)
    (source / ".chalice").mkdir(parents=True)
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(project / name, source / name)
    for path in (project / ".chalice").glob("*.json"):  # config.json, policy-<stage>.json
        shutil.copy2(path, source / ".chalice" / path.name)
    # symlinks=False copies the file a symlink points to (chalicelib/mapping/maps/*.yaml).
    shutil.copytree(
        project / "chalicelib",
        source / "chalicelib",
        symlinks=False,
        ignore=shutil.ignore_patterns(*LEFT_OUT),
    )
    for name in OPERATOR_ONLY:
        shutil.rmtree(source / "chalicelib" / name, ignore_errors=True)


def _packaging_env(stage: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    # Decorator arguments in app.py are read when chalice imports it: give the queue names
    # the stage's names (the merge template points the event sources at its own queues anyway).
    env["SYNC_QUEUE_NAME"] = f"zoho-xero-sync-{stage}.fifo"
    env["RUNS_QUEUE_NAME"] = f"zoho-xero-runs-{stage}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _chalice() -> str:
    beside_python = Path(sys.executable).parent / "chalice"
    found = str(beside_python) if beside_python.exists() else shutil.which("chalice")
    if not found:
        raise SystemExit("chalice is not installed: run `make install` first.")
    return found


def _finish_template(template: Path, stage: str) -> None:
    """Bind the template to what this build baked in.

    The Stage parameter only accepts the stage the package was built for, and every
    handler's SYNC_SCHEDULE_HOURS equals the schedule Chalice wrote (it read
    SYNC_SCHEDULE_HOURS when it imported app.py), so the portal shows the real interval.
    """
    data = yaml.safe_load(template.read_text())
    data["Parameters"]["Stage"]["AllowedValues"] = [stage]
    data["Parameters"]["Stage"]["Default"] = stage
    hours = schedule_hours(data)
    if hours is not None:
        variables = data["Globals"]["Function"]["Environment"]["Variables"]
        variables["SYNC_SCHEDULE_HOURS"] = str(hours)
    template.write_text(yaml.safe_dump(data, allow_unicode=True))


def schedule_hours(template: dict) -> int | None:
    """The scheduled sync's interval in hours, from its `rate(N hours)` event; None if absent."""
    for resource in template.get("Resources", {}).values():
        for event in (resource.get("Properties") or {}).get("Events", {}).values():
            if event.get("Type") == "Schedule":
                match = RATE_HOURS.fullmatch(str(event["Properties"]["Schedule"]))
                if match:
                    return int(match.group(1))
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, help="output folder (default build/<stage>)")
    parser.add_argument(
        "--project", type=Path, default=ROOT, help="the checkout to package (default: this one)"
    )
    args = parser.parse_args(argv)
    template = build(args.stage, args.out or ROOT / "build" / args.stage, project=args.project)
    size = (template.parent / ZIP).stat().st_size
    print(f"Built {template} and {template.parent / ZIP} ({size / 1_000_000:.1f} MB) for stage {args.stage}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
