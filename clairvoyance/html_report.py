"""``OUTPUT/report.html``: the run as a contact sheet that explains every verdict.

One self-contained file (thumbnails inlined as base64 JPEG, CSS and JavaScript inline, no request to
anything): it opens from disk without a server and can be mailed to a client. Each photo shows its
faces boxed and numbered, the three scores of each face as bars against the tolerance marks, the
verdict with its reason in words, and for a corrected photo the face before and after correction and
the corrected photo. The sheet can be filtered by verdict and sorted by name, verdict or lowest score.
"""
from __future__ import annotations

import base64
import html
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

import numpy as np
from PIL import Image

from .errors import ImageLoadError
from .images import read_photo
from .publish import write_text
from .types import AXES, STATUSES, ImageResult

#: Longest side of a photo's thumbnail on the sheet, in pixels.
THUMB_SIDE = 360
#: Side of the before/after face thumbnails.
FACE_SIDE = 128


def _jpeg_data_uri(rgb: np.ndarray, side: int, quality: int = 80) -> str:
    im = Image.fromarray(rgb)
    if max(im.size) > side:
        im.thumbnail((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _thumb(path: Path, side: int) -> tuple[str, tuple[int, int]] | None:
    """A data URI of ``path`` at most ``side`` pixels, and the upright size of the original."""
    try:
        photo = read_photo(path, max_side=side)
    except (ImageLoadError, OSError, ValueError):
        return None
    return _jpeg_data_uri(photo.rgb, side), photo.size


def lowest_score(r: ImageResult) -> float:
    """The lowest score of any face on any axis (-1 for a photo without faces): the sort key "score"."""
    return min((getattr(f.scores, a) for f in r.faces for a in AXES), default=-1.0)


def verdict_in_words(r: ImageResult) -> str:
    """``rejected: noise 0.31 < 0.50 on face 2``."""
    return f"{r.status.replace('_', ' ')}: {r.reason or r.error or ''}".rstrip(": ")


def _card(r: ImageResult, order: int, tol: dict[str, float], input_dir: Path, out_dir: Path) -> str:
    e = html.escape
    t = _thumb(input_dir / r.file, THUMB_SIDE) if r.status != "error" else None
    figure = '<div class="nothumb">no preview</div>'
    if t:
        uri, (W, H) = t
        boxes = "".join(
            f'<div class="box{" fail" if f.failed else ""}{" whole" if f.whole_image else ""}" style="left:{100 * f.box.x / W:.2f}%;'
            f'top:{100 * f.box.y / H:.2f}%;width:{100 * f.box.w / W:.2f}%;height:{100 * f.box.h / H:.2f}%">'
            f"<span>{i}</span></div>"
            for i, f in enumerate(r.faces, 1) if not f.whole_image)
        figure = f'<div class="thumb"><img src="{uri}" alt="{e(r.file)}">{boxes}</div>'
    rows = []
    for i, f in enumerate(r.faces, 1):
        bars = []
        for a in AXES:
            v, lim = getattr(f.scores, a), tol[a]
            ok = a not in f.failed
            bars.append(
                f'<div class="axis {"pass" if ok else "fail"}" data-axis="{a}"><span class="name">{a}</span>'
                f'<span class="bar" title="{a} {v:.2f}, tolerance {lim:.2f}"><span class="fill" style="width:{100 * v:.1f}%"></span>'
                f'<span class="tol" style="left:{100 * lim:.1f}%"></span></span><span class="val">{v:.2f}</span></div>')
        label = "whole image" if f.whole_image else f"face {i}"
        rows.append(f'<div class="face"><div class="fname">{label}</div>{"".join(bars)}</div>')
    extra = ""
    if r.status == "corrected":
        pairs = []
        for before in (o for o in r.outputs if o.endswith("_before.png")):
            after = before[: -len("_before.png")] + "_after.png"
            b, a = _thumb(out_dir / before, FACE_SIDE), _thumb(out_dir / after, FACE_SIDE)
            if b and a:
                n = before.rsplit("_face", 1)[-1].split("_", 1)[0]
                pairs.append(f'<div class="pair"><figure><img src="{b[0]}" alt="face {n} before"><figcaption>face {n} before</figcaption></figure>'
                             f'<figure><img src="{a[0]}" alt="face {n} after"><figcaption>after</figcaption></figure></div>')
        main = next((o for o in r.outputs if "/faces/" not in o), None)
        fixed = _thumb(out_dir / main, THUMB_SIDE) if main else None
        if fixed:
            pairs.append(f'<figure class="corrected"><img src="{fixed[0]}" alt="corrected {e(main)}"><figcaption>corrected</figcaption></figure>')
        extra = f'<div class="beforeafter">{"".join(pairs)}</div>'
    outs = "".join(f'<li><a href="{e(quote(o))}">{e(o)}</a></li>' for o in r.outputs if "/faces/" not in o)
    return (f'<article class="photo" data-status="{r.status}" data-file="{e(r.file)}" data-score="{lowest_score(r):.4f}" '
            f'data-order="{order}">{figure}<div class="info"><h2>{e(r.file)}</h2>'
            f'<p class="verdict {r.status}">{e(verdict_in_words(r))}</p>{"".join(rows)}{extra}'
            f'{f"<ul class=outputs>{outs}</ul>" if outs else ""}</div></article>')


_CSS = """
:root{--ok:#2e7d32;--bad:#c62828;--fix:#7b1fa2;--muted:#666;font-family:system-ui,sans-serif}
body{margin:0;background:#f4f4f4;color:#222}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.6em 1em;z-index:2}
h1{font-size:1.2em;margin:0 0 .3em}
header p{margin:.2em 0;color:var(--muted);font-size:.9em}
.controls{display:flex;flex-wrap:wrap;gap:.8em;align-items:center;font-size:.9em}
#sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:1em;padding:1em}
.photo{background:#fff;border-radius:6px;box-shadow:0 1px 3px #0002;overflow:hidden}
.photo[hidden]{display:none}
.thumb{position:relative;line-height:0}
.thumb img{width:100%;height:auto}
.nothumb{padding:2em;text-align:center;color:var(--muted);background:#eee}
.box{position:absolute;border:2px solid var(--ok);box-sizing:border-box}
.box.fail{border-color:var(--bad)}
.box span{position:absolute;top:-2px;left:-2px;background:inherit;color:#fff;font:bold 12px/16px sans-serif;padding:0 4px;background-color:var(--ok)}
.box.fail span{background-color:var(--bad)}
.info{padding:.5em .8em}
h2{font-size:1em;margin:.2em 0;word-break:break-all}
.verdict{font-weight:600;margin:.3em 0}
.verdict.selected,.verdict.no_face{color:var(--ok)}.verdict.rejected,.verdict.error{color:var(--bad)}.verdict.corrected{color:var(--fix)}
.face{margin:.4em 0}.fname{font-size:.85em;color:var(--muted)}
.axis{display:grid;grid-template-columns:4.5em 1fr 2.5em;gap:.4em;align-items:center;font-size:.85em}
.bar{position:relative;height:10px;background:#e6e6e6;border-radius:5px}
.fill{position:absolute;left:0;top:0;bottom:0;border-radius:5px;background:var(--ok)}
.fail .fill{background:var(--bad)}
.tol{position:absolute;top:-3px;bottom:-3px;width:2px;background:#000}
.beforeafter{display:flex;flex-wrap:wrap;gap:.5em;margin:.5em 0}
.pair{display:flex;gap:.2em}
figure{margin:0;text-align:center;font-size:.75em;color:var(--muted)}
.pair img{width:96px;height:96px}.corrected img{max-width:180px}
.outputs{font-size:.8em;padding-left:1.2em;margin:.3em 0}
"""

_JS = """
(function(){
  const sheet=document.getElementById('sheet');
  const cards=Array.from(sheet.querySelectorAll('.photo'));
  const boxes=Array.from(document.querySelectorAll('#filters input'));
  const sort=document.getElementById('sort');
  const shown=document.getElementById('shown');
  const rank={error:0,rejected:1,no_face:2,corrected:3,selected:4};
  function apply(){
    const on=new Set(boxes.filter(b=>b.checked).map(b=>b.value));
    let n=0;
    cards.forEach(c=>{c.hidden=!on.has(c.dataset.status); if(!c.hidden) n++;});
    shown.textContent=n+' of '+cards.length+' shown';
    const key=sort.value;
    const cmp={file:(a,b)=>a.dataset.file.localeCompare(b.dataset.file),
      status:(a,b)=>rank[a.dataset.status]-rank[b.dataset.status]||a.dataset.order-b.dataset.order,
      score:(a,b)=>parseFloat(a.dataset.score)-parseFloat(b.dataset.score)||a.dataset.order-b.dataset.order,
      scoredesc:(a,b)=>parseFloat(b.dataset.score)-parseFloat(a.dataset.score)||a.dataset.order-b.dataset.order}[key];
    cards.slice().sort(cmp).forEach(c=>sheet.appendChild(c));
  }
  boxes.forEach(b=>b.addEventListener('change',apply));
  sort.addEventListener('change',apply);
  apply();
})();
"""


def render(report: dict, results: Sequence[ImageResult], input_dir: Path, out_dir: Path, workers: int = 1) -> str:
    """The whole page as a string."""
    tol = report["tolerances"]
    with ThreadPoolExecutor(max(1, workers)) as ex:
        cards = list(ex.map(lambda ir: _card(ir[1], ir[0], tol, input_dir, out_dir), enumerate(results)))
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    e = html.escape
    filters = "".join(f'<label><input type="checkbox" value="{s}" checked> {s.replace("_", " ")} ({counts[s]})</label>'
                      for s in STATUSES)
    t = " ".join(f"{a} {tol[a]:.2f}" for a in AXES)
    smallest = f"&middot; faces from {int(report['min_face'])} px " if report.get("min_face") else ""
    meta = json.dumps({k: report.get(k) for k in ("version", "model", "detector", "min_face", "policy", "tolerances",
                                                  "verdict")}).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Clairvoyance report: {len(results)} photos</title><style>{_CSS}</style></head>
<body><header><h1>Clairvoyance: {len(results)} photos</h1>
<p>tolerances {e(t)} &middot; model {e(str(report["model"]))} &middot; detector {e(str(report["detector"]))}
{smallest}&middot; policy {e(str(report["policy"]))} &middot; verdict {e(str(report.get("verdict", "per-axis")))}</p>
<div class="controls"><span id="filters">{filters}</span>
<label>sort by <select id="sort"><option value="file">file name</option><option value="status">verdict</option>
<option value="score">lowest score first</option><option value="scoredesc">highest score first</option></select></label>
<span id="shown"></span></div></header>
<main id="sheet">{"".join(cards)}</main>
<script type="application/json" id="run">{meta}</script>
<script>{_JS}</script></body></html>
"""


def write_html_report(out_dir: Path, input_dir: Path, report: dict, results: Sequence[ImageResult],
                      workers: int = 1) -> Path:
    """Write ``OUTPUT/report.html`` (atomically, like the other reports) and return its path."""
    dst = Path(out_dir) / "report.html"
    write_text(render(report, results, Path(input_dir), Path(out_dir), workers), dst)
    return dst
