"""Screenshot of the article explorer on a press-conference article (for the README).

Usage:
    python bench/explorer_screenshot.py OUT.png [--model FOLDER] [--row N]

Serves the model folder (default: an untrained MiniLM classifier, whose stances are
arbitrary: the picture shows the page, not the model) in a throw-away BentoML store on a
free 127.0.0.1 port, opens GET / in headless Chromium, pastes the article below, presses
Analyze, selects a row of the table and writes a 1440x900 PNG. Prints the timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.headless import Chromium  # noqa: E402
from bench.server import register_folder, serve  # noqa: E402

# Written for this project (fictional country, people and forces), in the style of a
# wire report of a press conference: headline twice, dateline, quotes, site noise.
ARTICLE = """\
Marov: peacekeepers' work satisfactory, monitoring center "an important step"
Marov: peacekeepers' work satisfactory, monitoring center "an important step"
Veldin, 14 April 2024, 16:05

President of Kestria Elin Marov held a press conference for local and foreign media on Thursday.

Speaking about the Nordlian peacekeepers, the president said: "On the whole, the work of the Nordlian peacekeepers can be considered satisfactory. They keep the roads open and the villages calm.

"The Joint Monitoring Center in Aghdara is a very important step for the whole region," she added.

Mrs. Marov said the peacekeepers had earned the trust of both communities.

Asked about the Varesian forces stationed near the border, the president was blunt. "The presence of the Varesian forces is unacceptable. Nobody invited them, and they are not a subject of discussion," Mrs. Marov said.

Opposition leader Tomas Brenko, in turn, said the Joint Monitoring Center had so far published nothing useful and called it a waste of money.

The press conference lasted three hours.
###
Share this article | Follow us | (c) 2024 Veldin Daily
"""  # noqa: E501

TARGETS = ["Nordlian peacekeepers", "Joint Monitoring Center", "Varesian forces"]


def _model_folder(home: str) -> Path:
    """An untrained MiniLM classifier saved to a folder (no trained model is shipped)."""
    from model import StanceClassifier, StanceConfig

    folder = Path(home) / "untrained"
    StanceClassifier.from_base(StanceConfig(max_length=64)).save(folder)
    return folder


def main() -> None:
    """Serve, open the page, analyze ARTICLE, select a row, write the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--model", type=Path, help="model folder (default: untrained MiniLM)")
    parser.add_argument("--row", type=int, default=0, help="table row to select (0-based)")
    opts = parser.parse_args()
    home = tempfile.mkdtemp(prefix="stance-explorer-")
    started = time.perf_counter()
    model = opts.model or _model_folder(home)
    tag = register_folder(model, home)
    log = Path(home) / "serve.log"
    with serve({"BENTOML_HOME": home, "STANCE_MODEL_TAG": tag}, log) as url:
        ready = time.perf_counter()
        with Chromium.launch(width=1440, height=900) as browser:
            browser.goto(f"{url}/")
            browser.type_into("#text", ARTICLE)
            browser.type_into("#targets", "\n".join(TARGETS))
            clicked = time.perf_counter()
            browser.click("#analyze")
            rows = browser.wait_for("document.querySelectorAll('#stances tbody tr').length")
            analysed = time.perf_counter()
            browser.click(f"#stances tbody tr[data-row='{opts.row}']")
            browser.wait_for("document.querySelectorAll('#article .evidence').length > 0")
            time.sleep(0.8)  # let the smooth scroll to the evidence finish
            opts.out.parent.mkdir(parents=True, exist_ok=True)
            browser.screenshot(opts.out)
    print(f"model {tag}: {rows} rows; wrote {opts.out}")
    print(f"server ready      {ready - started:6.1f} s")
    print(f"analyze + render  {analysed - clicked:6.1f} s (click to table in the DOM)")


if __name__ == "__main__":
    main()
