"""XMP sidecars: Clairvoyance's verdicts where Lightroom, Capture One, darktable and digiKam read them.

A sidecar sits next to the original photo (never inside it):

* ``adobe`` (default; Lightroom, Capture One, Bridge): ``IMG_0001.CR3`` -> ``IMG_0001.xmp``. When a RAW
  and a JPEG share a name (RAW+JPEG shooting), they would share that sidecar: the RAW gets it.
* ``darktable`` (darktable, digiKam): ``IMG_0001.CR3`` -> ``IMG_0001.CR3.xmp``.

What is written, the fields Clairvoyance owns:

* ``xmp:Rating``: a rejected photo gets -1 (Lightroom's and darktable's "rejected"); a selected photo
  gets 1 to 5 stars from its lowest judged score (``stars``); a corrected photo gets 1 star, and
* ``xmp:Label`` ``Purple`` on a corrected photo: its corrected copy is in ``Final/generated/``. A label
  is removed again only while it is still the one Clairvoyance set (a label you chose is kept).
* With the ``darktable`` style, the same label in darktable's own ``darktable:colorlabels`` list
  (``4``, purple), which darktable reads instead of ``xmp:Label``: added to the list where it stands,
  and taken out again only if Clairvoyance added it (``clairvoyance:ColorLabel`` records that).
* The scores, verdict and reason in Clairvoyance's own namespace (prefix ``clairvoyance``):
  ``Verdict``, ``Reason``, ``Focus``/``Noise``/``Lighting`` (lowest over the judged faces),
  ``Tolerances``, ``Model``, ``Faces`` (one line per face), ``Label`` (the label it set) and
  ``ColorLabel`` (the darktable colour label it added, if any).

An existing sidecar is edited as text: those fields are replaced where they are, or added in a
``rdf:Description`` of Clairvoyance's own; every other byte (edit history, keywords, develop
settings) is left exactly as it was. A file that is not well-formed XMP is left alone (an error).
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence
from xml.sax.saxutils import escape

from .errors import ClairvoyanceError
from .images import RAW_EXTENSIONS
from .publish import write_text
from .types import AXES, ImageResult, Tolerances

XMP_STYLES = ("adobe", "darktable")
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
#: Clairvoyance's own XMP namespace.
NS_CLAIRVOYANCE = "https://github.com/clairvoyance/ns/1.0/"
PREFIX = "clairvoyance"
#: The colour label of a corrected photo.
CORRECTED_LABEL = "Purple"
#: darktable's namespace, and its colour labels (an ``rdf:Seq`` of these numbers in ``darktable:colorlabels``).
NS_DARKTABLE = "http://darktable.sf.net/"
DARKTABLE_LABELS = {"Red": 0, "Yellow": 1, "Green": 2, "Blue": 3, "Purple": 4}
#: Lowest judged score -> stars for a selected photo: >= 0.9 five, >= 0.8 four, >= 0.7 three, >= 0.6 two, else one.
STAR_STEPS = (0.6, 0.7, 0.8, 0.9)


class XmpError(ClairvoyanceError):
    """An existing sidecar that cannot be edited safely (not UTF-8, not well-formed, no rdf:RDF)."""


# --- naming ---------------------------------------------------------------------------------------
def sidecar_path(photo: Path, style: str = "adobe") -> Path:
    """Where the sidecar of ``photo`` goes; an existing one whose name differs only in case is reused."""
    if style not in XMP_STYLES:
        raise ValueError(f"xmp style must be one of {XMP_STYLES}, got {style!r}")
    p = photo.with_suffix(".xmp") if style == "adobe" else photo.with_name(photo.name + ".xmp")
    if not p.exists():
        try:
            same = [q for q in p.parent.iterdir() if q.name.lower() == p.name.lower() and q.is_file()]
        except OSError:
            same = []
        if same:
            return same[0]
    return p


def sidecar_paths(photos: Iterable[Path], style: str, log: Callable[[str], None] | None = None) -> dict[Path, Path]:
    """The sidecar of each photo. Photos that would share one (``IMG_1.CR3`` and ``IMG_1.JPG`` in the
    adobe style): the RAW gets it, else the first by name; the others get none (logged)."""
    by_sidecar: dict[str, list[Path]] = {}
    for p in photos:
        by_sidecar.setdefault(str(sidecar_path(p, style)).lower(), []).append(p)
    out = {}
    for group in by_sidecar.values():
        owner = sorted(group, key=lambda q: (q.suffix.lower() not in RAW_EXTENSIONS, q.name))[0]
        out[owner] = sidecar_path(owner, style)
        for other in group:
            if other is not owner and log:
                log(f"xmp: {other.name} shares {out[owner].name} with {owner.name}; only {owner.name} gets it")
    return out


# --- what is written ------------------------------------------------------------------------------
def stars(lowest: float) -> int:
    """1-5 stars for a selected photo from its lowest judged score on the 0.5-is-acceptable scale."""
    return 1 + sum(lowest >= s for s in STAR_STEPS)


@dataclass(frozen=True)
class SidecarFields:
    """The values Clairvoyance owns in a sidecar."""

    rating: int
    label: str | None
    verdict: str
    reason: str
    scores: dict[str, float]
    tolerances: str
    model: str
    faces: tuple[str, ...]


def fields_for(result: ImageResult, judged: Sequence[int], tolerances: Tolerances, model: str) -> SidecarFields:
    """Rating, label and scores for one photo's result; ``judged`` are the faces that decided it."""
    judged = list(judged) or list(range(len(result.faces)))
    lowest = {a: min(getattr(result.faces[i].scores, a) for i in judged) for a in AXES} if judged else {}
    kept = bool(result.outputs)
    if result.status == "corrected":
        rating = 1
    elif result.status in ("selected", "no_face") and kept:
        rating = stars(min(lowest.values())) if lowest else 1
    else:  # rejected, or a no-face photo that failed
        rating = -1
    faces = tuple(
        f"face {i + 1}: box {' '.join(map(str, f.box.as_list()))}; "
        + "; ".join(f"{a} {getattr(f.scores, a):.2f}" for a in AXES)
        + (f"; failed {', '.join(f.failed)}" if f.failed else "") + ("" if i in judged else "; not judged")
        for i, f in enumerate(result.faces))
    t = tolerances.as_dict()
    return SidecarFields(rating=rating, label=CORRECTED_LABEL if result.status == "corrected" else None,
                         verdict=result.status, reason=result.reason,
                         scores={a: round(v, 4) for a, v in lowest.items()},
                         tolerances=" ".join(f"{a} {t[a]:.2f}" for a in AXES) + f" ({tolerances.rule})", model=model,
                         faces=faces)


# --- editing the text -----------------------------------------------------------------------------
_NAME = r"[A-Za-z_][\w.-]*"
_ATTR = r"\s+({n})\s*=\s*(\"[^\"]*\"|'[^']*')".replace("{n}", _NAME + r"(?::" + _NAME + r")?")
_START_TAG = re.compile(r"<(" + _NAME + r"(?::" + _NAME + r")?)((?:\s+" + _NAME + r"(?::" + _NAME
                        + r")?\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")


def _prefixes(text: str, uri: str) -> list[str]:
    return sorted(set(re.findall(r"xmlns:(" + _NAME + r")\s*=\s*[\"']" + re.escape(uri) + r"[\"']", text)))


def _attr_value(v: str) -> str:
    return escape(v, {'"': "&quot;", "\n": "&#10;", "\t": "&#9;"})


def _edit_start_tags(text: str, edit: Callable[[str, list[tuple[str, str]]], list[tuple[str, str]]]) -> str:
    """Rewrite the attributes of every start tag: ``edit(tag, [(name, quoted value), ...])`` returns the
    new list. Untouched attributes, and tags whose attributes ``edit`` leaves alone, keep every byte."""
    def one(m: re.Match) -> str:
        body = m.group(2)
        found = [(a.group(0), a.group(1), a.group(2)) for a in re.finditer(_ATTR, body)]
        attrs = [(n, v) for _, n, v in found]
        new = edit(m.group(1), attrs)
        if new == attrs:
            return m.group(0)
        raw = {(n, v): r for r, n, v in found}
        space = {n: r[: len(r) - len(r.lstrip())] for r, n, _ in found}
        rebuilt = "".join(raw.get((n, v), f"{space.get(n, ' ')}{n}={v}") for n, v in new)
        at = m.start(2) - m.start(0)
        return m.group(0)[:at] + rebuilt + m.group(0)[at + len(body):]
    return _START_TAG.sub(one, text)


def _element_re(prefix: str, name: str) -> re.Pattern:
    q = re.escape(f"{prefix}:{name}")
    return re.compile(r"(?:\n[ \t]*)?<" + q + r"(?:\s[^>]*)?(?:/>|>(.*?)</" + q + r"\s*>)", re.S)


def _read(text: str) -> dict:
    """The fields Clairvoyance cares about as they stand (for --dry-run and for label ownership)."""
    try:
        root = ET.fromstring(text.lstrip("\ufeff"))
    except ET.ParseError as e:
        raise XmpError(f"not well-formed XML ({e})") from None
    if root.find(f".//{{{NS_RDF}}}RDF") is None and root.tag != f"{{{NS_RDF}}}RDF":
        raise XmpError("no rdf:RDF element: not an XMP packet")
    found: dict = {}
    for d in root.iter(f"{{{NS_RDF}}}Description"):
        for k, v in d.attrib.items():
            found.setdefault(k, v)
        for child in d:
            if len(child) == 0 and child.text is not None:
                found.setdefault(child.tag, child.text.strip())
    colorlabels = [(li.text or "").strip() for el in root.iter(f"{{{NS_DARKTABLE}}}colorlabels")
                   for li in el.iter(f"{{{NS_RDF}}}li")]
    return {"rating": found.get(f"{{{NS_XMP}}}Rating"), "label": found.get(f"{{{NS_XMP}}}Label"),
            "our_label": found.get(f"{{{NS_CLAIRVOYANCE}}}Label"), "verdict": found.get(f"{{{NS_CLAIRVOYANCE}}}Verdict"),
            "colorlabels": " ".join(colorlabels) or None,
            "our_colorlabel": found.get(f"{{{NS_CLAIRVOYANCE}}}ColorLabel") or None}


_NEW_DOCUMENT = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Clairvoyance">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 </rdf:RDF>
</x:xmpmeta>
"""


def update_sidecar(text: str | None, fields: SidecarFields, style: str = "adobe") -> str:
    """The sidecar ``text`` (None: a new one) with Clairvoyance's fields set to ``fields``; all else kept.
    The ``darktable`` style also sets the label in darktable's own ``darktable:colorlabels``."""
    if text is None:
        text = _NEW_DOCUMENT
    before = _read(text)
    ours, xmps = _prefixes(text, NS_CLAIRVOYANCE), _prefixes(text, NS_XMP)
    # 1. our own namespace: every property goes (it is written afresh below)
    for p in ours:
        text = _remove_elements(text, p)
    text = _edit_start_tags(text, lambda tag, attrs: [a for a in attrs if not any(a[0].startswith(p + ":") for p in ours)])
    # 2. the Description an earlier run added (ours, if it holds nothing else) goes; its rating and label
    #    are written afresh in the new one
    text, left = _drop_our_description(text, ours, xmps, _prefixes(text, NS_DARKTABLE))
    # 3. rating and label elsewhere (a tool that merged our Description into its own): changed in place
    extra: dict[str, str] = {}
    have = {"Rating": False, "Label": False}

    def set_value(name: str, value: str | None, only_if: str | None = None) -> None:
        nonlocal text
        for p in xmps:
            q = f"{p}:{name}"

            def attr_edit(tag, attrs):
                out = []
                for n, v in attrs:
                    if n != q:
                        out.append((n, v))
                        continue
                    have[name] = True
                    if only_if is not None and _unquote(v) != only_if:
                        out.append((n, v))
                    elif value is not None:
                        out.append((n, v if _unquote(v) == value else f'"{_attr_value(value)}"'))
                return out
            text = _edit_start_tags(text, attr_edit)

            def elem_edit(m: re.Match) -> str:
                have[name] = True
                if only_if is not None and (m.group(1) or "").strip() != only_if:
                    return m.group(0)
                if value is None:
                    return ""
                if (m.group(1) or "").strip() == value:
                    return m.group(0)
                lead = m.group(0)[: m.group(0).index("<")]
                return f"{lead}<{q}>{escape(value)}</{q}>"
            text = _element_re(p, name).sub(elem_edit, text)

    set_value("Rating", str(fields.rating))
    if not have["Rating"]:
        extra["xmp:Rating"] = str(fields.rating)
    if fields.label is not None:
        set_value("Label", fields.label)
        if not have["Label"]:
            extra["xmp:Label"] = fields.label
    else:  # take back a label we set earlier, only while it is still ours
        if before["our_label"]:
            set_value("Label", None, only_if=before["our_label"])
        if left.get("Label") and left["Label"] != before["our_label"]:
            extra["xmp:Label"] = left["Label"]
    # 4. darktable's colour label, in the list where it stands (else in our Description)
    want = str(DARKTABLE_LABELS[fields.label]) if style == "darktable" and fields.label else None
    text, block_labels, own = _set_colorlabel(text, want, before["our_colorlabel"], left.get("colorlabels", []))
    # 5. our new Description, before </rdf:RDF>
    block = _block(fields, extra, block_labels, own)
    rdf = _prefixes(text, NS_RDF) or ["rdf"]
    closes = [m for p in rdf for m in re.finditer(r"([ \t]*)</" + re.escape(p) + r":RDF\s*>", text)]
    if not closes:
        raise XmpError("no </rdf:RDF> to add Clairvoyance's fields before")
    close = max(closes, key=lambda m: m.start())
    indent = close.group(1) + " "
    block = "".join(indent + line + "\n" if line else "\n" for line in block.splitlines())
    if not text[: close.start()].endswith("\n"):
        block = "\n" + block
    text = text[: close.start()] + block + text[close.start():]
    _read(text)  # still well-formed, or we raise before anything is written
    return text


def _unquote(v: str) -> str:
    import html

    return html.unescape(v[1:-1])


def _remove_elements(text: str, prefix: str) -> str:
    """Remove every ``<prefix:X>...</prefix:X>`` property element (and the line it stood on)."""
    pat = re.compile(r"(?:\n[ \t]*)?<(" + re.escape(prefix) + r":" + _NAME + r")(?:\s[^>]*)?(?:/>|>.*?</\1\s*>)", re.S)
    return pat.sub("", text)


def _drop_our_description(text: str, ours: list[str], xmps: list[str],
                          dts: list[str] = ()) -> tuple[str, dict]:
    """Remove a ``rdf:Description`` that an earlier run added: it declares our namespace and, once our
    properties are gone, holds nothing but ``rdf:about``, declarations, xmp:Rating / xmp:Label and a
    ``darktable:colorlabels`` list. Returns the text and the rating, label and colour labels it held."""
    held: dict = {}
    if not ours:
        return text, held
    colorlabels = (r"(?:<((?:" + "|".join(map(re.escape, dts)) + r"):colorlabels)>(.*?)</\3\s*>\s*)?") if dts else ""
    pat = re.compile(r"(?:\n[ \t]*)?<(" + _NAME + r":Description)((?:\s+" + _NAME + r"(?::" + _NAME
                     + r")?\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?:/>|>\s*" + colorlabels + r"</\1\s*>)", re.S)
    owned = {f"{p}:{n}": n for p in xmps for n in ("Rating", "Label")}

    def drop(m: re.Match) -> str:
        attrs = [(a.group(1), a.group(2)) for a in re.finditer(_ATTR, m.group(2))]
        names = [n for n, _ in attrs]
        declares_ours = any(n == f"xmlns:{p}" for n in names for p in ours)
        if not declares_ours or not all(n.startswith("xmlns:") or n.endswith(":about") or n in owned for n in names):
            return m.group(0)
        held.update({owned[n]: _unquote(v) for n, v in attrs if n in owned})
        if dts and m.group(3):
            held["colorlabels"] = _li_values(m.group(4))
        return ""
    return pat.sub(drop, text), held


_LI = re.compile(r"(\n[ \t]*)?<(" + _NAME + r"):li>\s*([^<]*?)\s*</\2:li>")


def _li_values(seq: str) -> list[str]:
    return [m.group(3) for m in _LI.finditer(seq)]


def _set_colorlabel(text: str, want: str | None, owned: str | None, held: list[str]) -> tuple[str, list[str], str | None]:
    """Put darktable colour label ``want`` (None: none of ours) into ``text``'s ``darktable:colorlabels``
    lists, and take out ``owned`` (the one an earlier run added) when it is no longer wanted. ``held``
    is the list our previous Description carried. Returns the text, the labels for our new Description,
    and the label Clairvoyance owns now. Other labels, and the lists' other bytes, are left alone."""
    dts = _prefixes(text, NS_DARKTABLE)
    elem = re.compile(r"<((?:" + "|".join(map(re.escape, dts)) + r"):colorlabels)>(.*?)</\1\s*>", re.S) if dts else None
    found = list(elem.finditer(text)) if elem else []
    present = [v for m in found for v in _li_values(m.group(2))]
    block = [v for v in held if v == want or v != owned]
    own = None
    if want is not None:
        if want in present or want in block:
            own = want if owned == want else None  # someone else's already (or still ours)
        elif found:
            text = _add_li(text, found[0], want)
            own = want
        else:
            block.append(want)
            own = want
    if owned is not None and owned != want and owned in present:
        m = next(m for m in found if owned in _li_values(m.group(2)))
        li = next(li for li in _LI.finditer(m.group(2)) if li.group(3) == owned)
        rest = m.group(2)[: li.start()] + m.group(2)[li.end():]
        if _li_values(rest):
            text = text[: m.start(2)] + rest + text[m.end(2):]
        else:  # the list held only our label: the property goes, with the line it stood on
            start = m.start()
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            if start > 0 and text[start - 1] == "\n":
                start -= 1
            text = text[:start] + text[m.end():]
    return text, block, own


def _add_li(text: str, m: re.Match, value: str) -> str:
    """``value`` added to the list ``m`` (a colorlabels element) after its last item, on a line of its own
    indented as that item; an empty list becomes a list of one."""
    items = list(_LI.finditer(m.group(2)))
    if items:
        li = items[-1]
        at = m.start(2) + li.end()
        return text[:at] + f"{li.group(1) or ''}<{li.group(2)}:li>{value}</{li.group(2)}:li>" + text[at:]
    rdf = (_prefixes(text, NS_RDF) or ["rdf"])[0]
    return text[: m.start(2)] + f"<{rdf}:Seq><{rdf}:li>{value}</{rdf}:li></{rdf}:Seq>" + text[m.end(2):]


def _block(fields: SidecarFields, extra: dict[str, str], colorlabels: Sequence[str] = (), own_colorlabel: str | None = None) -> str:
    attrs = [f'xmlns:{PREFIX}="{NS_CLAIRVOYANCE}"']
    if extra:
        attrs.append(f'xmlns:xmp="{NS_XMP}"')
    if colorlabels:
        attrs.append(f'xmlns:darktable="{NS_DARKTABLE}"')
    attrs += [f'{k}="{_attr_value(v)}"' for k, v in extra.items()]
    own = {"Verdict": fields.verdict, "Reason": fields.reason,
           **{a.capitalize(): f"{v:.4f}" for a, v in fields.scores.items()},
           "Tolerances": fields.tolerances, "Model": fields.model, "Label": fields.label or ""}
    if own_colorlabel is not None:
        own["ColorLabel"] = own_colorlabel
    attrs += [f'{PREFIX}:{k}="{_attr_value(v)}"' for k, v in own.items()]
    lines = ['<rdf:Description rdf:about=""'] + [" " + a for a in attrs]
    lines[-1] += ">"
    if colorlabels:
        lines += [" <darktable:colorlabels>", "  <rdf:Seq>"]
        lines += [f"   <rdf:li>{escape(v)}</rdf:li>" for v in colorlabels]
        lines += ["  </rdf:Seq>", " </darktable:colorlabels>"]
    if fields.faces:
        lines += [f" <{PREFIX}:Faces>", "  <rdf:Seq>"]
        lines += [f"   <rdf:li>{escape(f)}</rdf:li>" for f in fields.faces]
        lines += ["  </rdf:Seq>", f" </{PREFIX}:Faces>"]
    lines.append("</rdf:Description>")
    return "\n".join(lines)


def describe_change(old: str | None, new: str) -> str:
    """In words, what writing ``new`` over ``old`` changes (for ``--dry-run`` and the log)."""
    b = _read(old) if old is not None else {"rating": None, "label": None, "verdict": None, "colorlabels": None}
    a = _read(new)
    parts = [f"{k} {b[key] or 'none'} -> {a[key] or 'none'}"
             for k, key in (("xmp:Rating", "rating"), ("xmp:Label", "label"),
                            ("darktable:colorlabels", "colorlabels"), ("verdict", "verdict"))
             if b[key] != a[key]]
    return ("new sidecar: " if old is None else "") + (", ".join(parts) or "scores updated")


def write_sidecar(path: Path, result: ImageResult, judged: Sequence[int], tolerances: Tolerances, model: str,
                  dry_run: bool = False, log: Callable[[str], None] | None = None, style: str = "adobe") -> bool:
    """Create or update the sidecar at ``path`` for ``result``; True when it was (or would be) changed.
    An unchanged sidecar is not rewritten. ``style`` ``darktable`` also writes darktable's colour label."""
    old = None
    mode = None
    if path.exists():
        try:
            old = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise XmpError(f"{path.name} is not UTF-8; left unchanged") from None
        mode = path.stat().st_mode & 0o7777
    try:
        new = update_sidecar(old, fields_for(result, judged, tolerances, model), style)
    except XmpError as e:
        raise XmpError(f"{path.name}: {e}; left unchanged") from None
    if new == old:
        return False
    if log:
        log(f"xmp: {path.name}{' would change' if dry_run else ''}: {describe_change(old, new)}")
    if not dry_run:
        write_text(new, path)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(path, mode)
    return True
