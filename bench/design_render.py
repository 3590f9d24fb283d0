"""The template fallback of DesignRender (DesignTemplateRender): what it costs, against baselines
measured in the same run.

* Render: the function invoked through the local cloud (its own worker, as `make dev` runs it)
  with the demo `promo` template (PDF + PNG, 1080 x 1080) against the same function with a
  trivial one-line template (PDF only), interleaved, medians of --runs (first calls excluded).
* Cold start: importing the handler in a fresh interpreter laid out like Lambda (function dir,
  layer, then the renderer's packages) against a bare handler on the same layer
  (``hub.invocation.operation_handler`` and nothing else), interleaved, medians of --cold-runs.
* Artifact: the renderer's packages as `sam build` would put them in the function for arm64
  (pip, manylinux2014_aarch64 wheels, Python 3.11), unzipped and zipped; cached in
  .aws-sam/bench/design-render-deps after the first run (needs PyPI; skipped without it).

Run: python -m bench.design_render [--runs 20] [--cold-runs 5].
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "hub") not in sys.path:
    sys.path[:0] = [str(ROOT / "layers" / "hub"), str(ROOT)]

from bench.common import bench_cloud  # noqa: E402
from localcloud import LocalCloud, demo  # noqa: E402

FUNCTION = "DesignTemplateRender"
FUNCTION_DIR = ROOT / "functions" / "design_template_render"
DEPS = ROOT / ".aws-sam" / "bench" / "design-render-deps"
PROMO = {
    "org_id": demo.DEMO_ORG_ID,
    "template": "promo",
    "fields": {"headline": "Promoção de verão", "subtitle": "Ação válida em São Paulo", "cta": "Peça já"},
}
TRIVIAL = {"org_id": demo.DEMO_ORG_ID, "template": "bench-trivial", "fields": {"headline": "oi"}, "formats": ["pdf"]}
BARE_HANDLER = (
    "from hub.invocation import operation_handler\n"
    "from pydantic import BaseModel\n\n\n"
    "class Ping(BaseModel):\n    org_id: str\n\n\n"
    "handler = operation_handler('bench.ping', Ping, lambda request: request)\n"
)


def timed_invoke(cloud: LocalCloud, event: dict[str, Any]) -> float:
    start = time.perf_counter()
    result = cloud.invoke(FUNCTION, {**event, "render_id": f"bench_{uuid.uuid4().hex}"})
    elapsed = (time.perf_counter() - start) * 1000
    assert result["path"] == "template", result
    return elapsed


def render_times(runs: int) -> None:
    with bench_cloud("WARNING") as cloud:
        s3 = boto3.client("s3", endpoint_url=cloud.aws_url, region_name="us-east-1")
        assert cloud.template is not None
        bucket = cloud.template.env_value("PUBLIC_ASSETS_BUCKET") or ""
        key = f"{demo.DEMO_ORG_ID}/templates/bench-trivial/index.html"
        s3.put_object(Bucket=bucket, Key=key, Body=b"<p>{{ headline }}</p>", ContentType="text/html")
        first = timed_invoke(cloud, PROMO)
        timed_invoke(cloud, TRIVIAL)
        trivial, promo = [], []
        for _ in range(runs):
            trivial.append(timed_invoke(cloud, TRIVIAL))
            promo.append(timed_invoke(cloud, PROMO))
    base, full = statistics.median(trivial), statistics.median(promo)
    print(f"Render through the local cloud (warm worker), median of {runs}, interleaved")
    print(f"  trivial template, PDF only        {base:8.1f} ms")
    print(f"  demo promo template, PDF + PNG    {full:8.1f} ms   ratio {full / base:5.2f}x")
    print(f"  first call (worker start + imports + render)   {first:8.1f} ms")


def import_ms(app: Path, path: list[Path]) -> float:
    code = (
        "import time, runpy, sys; t = time.perf_counter(); runpy.run_path(sys.argv[1]); "
        "print((time.perf_counter() - t) * 1000)"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    out = subprocess.run([sys.executable, "-c", code, str(app)], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_starts(runs: int) -> None:
    layer = ROOT / "layers" / "hub"
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "app.py"
        bare.write_text(BARE_HANDLER)
        # The renderer's packages from this venv (the arm64 build below does not run on x86_64).
        render_path = [FUNCTION_DIR, layer]
        import_ms(bare, [Path(tmp), layer])  # warm the page cache for both
        import_ms(FUNCTION_DIR / "app.py", render_path)
        base, render = [], []
        for _ in range(runs):
            base.append(import_ms(bare, [Path(tmp), layer]))
            render.append(import_ms(FUNCTION_DIR / "app.py", render_path))
    b, r = statistics.median(base), statistics.median(render)
    print(f"\nCold import of the handler (fresh interpreter), median of {runs}, interleaved")
    print(f"  bare operation handler on the layer   {b:8.1f} ms")
    print(f"  DesignTemplateRender                   {r:8.1f} ms   +{r - b:.0f} ms, ratio {r / b:5.2f}x")


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def zipped_size(path: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "a.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for p in path.rglob("*"):
                if p.is_file():
                    archive.write(p, p.relative_to(path))
        return target.stat().st_size


def artifact() -> None:
    if not DEPS.is_dir():
        cmd = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--platform", "manylinux2014_aarch64", "--only-binary=:all:", "--python-version", "3.11",
            "--implementation", "cp", "--target", str(DEPS), "-r", str(FUNCTION_DIR / "requirements.txt"),
        ]  # fmt: skip
        if subprocess.run(cmd, check=False).returncode != 0:
            print("\nArtifact: pip could not fetch the arm64 wheels; skipped")
            return
    fonts = FUNCTION_DIR / "fonts"
    code = tree_size(FUNCTION_DIR) - tree_size(fonts)
    print("\nFunction artifact as built for arm64 (sam build: its requirements.txt + its directory)")
    print(f"  renderer packages   {tree_size(DEPS) / 1e6:6.1f} MB unzipped, {zipped_size(DEPS) / 1e6:5.1f} MB zipped")
    print(f"  fonts (Noto Sans)   {tree_size(fonts) / 1e6:6.1f} MB;  code {code / 1e3:.0f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--no-artifact", dest="artifact", action="store_false")
    args = parser.parse_args()
    render_times(args.runs)
    cold_starts(args.cold_runs)
    if args.artifact:
        artifact()


if __name__ == "__main__":
    main()
