"""Screenshot of a `stance report` HTML file built from a synthetic scored archive.

Usage:
    python bench/report_screenshot.py OUT.png [--rows 20000] [--html REPORT.html]

Writes the synthetic archive of bench/archive_report_bench.py (rows with a date field and
an errors file), runs `stance report --by target --time-field date --freq M --top 8`, opens
the HTML in headless Chromium and writes a PNG of the page from the top (1140 px wide,
--max-height tall).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.archive_report_bench import write_archive  # noqa: E402
from bench.headless import Chromium  # noqa: E402


def main() -> None:
    """Generate, report, screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--html", type=Path, help="also keep the report here")
    parser.add_argument("--max-height", type=int, default=1750, help="crop the page (px)")
    opts = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stance-report-shot-"))
    scored = write_archive(folder, opts.rows, ["parquet"])["parquet"]
    html = opts.html or folder / "report.html"
    cmd = [sys.executable, "-m", "cli", "report", str(scored), str(html)]
    subprocess.run(
        [*cmd, "--time-field", "date", "--freq", "M", "--top", "8"], cwd=ROOT, check=True
    )
    with Chromium.launch(width=1140, height=900) as browser:
        browser.goto(html.resolve().as_uri())
        opts.out.parent.mkdir(parents=True, exist_ok=True)
        browser.screenshot(opts.out, full_page=True, max_height=opts.max_height)
    print(f"wrote {opts.out} from {html}")


if __name__ == "__main__":
    main()
