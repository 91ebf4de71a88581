"""XMP sidecars, read back by a real reader (exiftool): ratings, colour labels and scores for JPEG and RAW
photos, both naming styles, and an existing sidecar's other contents kept byte for byte."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from clairvoyance import Clairvoyance, degrade
from clairvoyance.xmp import CORRECTED_LABEL, stars

from conftest import write_jpeg
from photo_files import write_dng

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="exiftool missing (make test installs libimage-exiftool-perl)")

#: A sidecar as Lightroom leaves it: develop settings, keywords, edit history, a rating of its own.
LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:ModifyDate="2024-05-01T10:00:00+02:00"
   xmp:Rating="0"
   xmp:Label="Red"
   crs:Exposure2012="+0.35"
   crs:WhiteBalance="As Shot">
   <dc:subject>
    <rdf:Bag>
     <rdf:li>wedding</rdf:li>
     <rdf:li>Anna &amp; Ben</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <xmpMM:History>
    <rdf:Seq>
     <rdf:li stEvt:action="saved" stEvt:when="2024-05-01T10:00:00+02:00" stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 13.0"/>
    </rdf:Seq>
   </xmpMM:History>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def run(d, out, **kw):
    return Clairvoyance(model="classical", input_dir=d, output_dir=out, **kw).run(log=lambda m: None)


def exiftool(*paths) -> list[dict]:
    r = subprocess.run(["exiftool", "-j", "-G1", "-n", *map(str, paths)], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def without_our_description(text: str) -> str:
    return re.sub(r"\n[ \t]*<rdf:Description rdf:about=\"\"\n[ \t]*xmlns:clairvoyance=.*?</rdf:Description>", "",
                  text, flags=re.S)


@pytest.fixture(scope="module")
def shot(tmp_path_factory, astronaut):
    """JPEG and RAW photos, one per verdict, run with --xmp (adobe naming)."""
    root = tmp_path_factory.mktemp("xmp")
    d = root / "in"
    write_jpeg(d / "good.jpg", astronaut)
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    write_jpeg(d / "blurred.jpg", degrade.defocus_blur(astronaut, 8))
    write_dng(d / "IMG_0001.DNG", astronaut)
    write_dng(d / "IMG_0002.DNG", degrade.defocus_blur(astronaut, 8))
    res = run(d, root / "out", xmp="adobe")
    return d, {r.file: r for r in res.images}


@needs_exiftool
@pytest.mark.parametrize("name, rating, label, verdict", [
    ("good.xmp", None, None, "selected"),
    ("IMG_0001.xmp", None, None, "selected"),
    ("dark.xmp", 1, CORRECTED_LABEL, "corrected"),
    ("blurred.xmp", -1, None, "rejected"),
    ("IMG_0002.xmp", -1, None, "rejected"),
])
def test_exiftool_reads_back_rating_label_and_scores(shot, name, rating, label, verdict):
    d, res = shot
    [tags] = exiftool(d / name)
    photo = next(r for r in res.values() if r.file.rsplit(".", 1)[0] == name[:-4])
    assert photo.status == verdict
    if rating is None:  # selected: stars from the lowest score
        lowest = min(getattr(photo.faces[0].scores, a) for a in ("focus", "noise", "lighting"))
        assert tags["XMP-xmp:Rating"] == stars(lowest) >= 1
    else:
        assert tags["XMP-xmp:Rating"] == rating
    assert tags.get("XMP-xmp:Label") == label
    assert tags["XMP-clairvoyance:Verdict"] == verdict
    assert tags["XMP-clairvoyance:Reason"] == photo.reason
    assert tags["XMP-clairvoyance:Tolerances"].endswith("(budget)")  # the verdict rule, with the tolerances
    for a in ("Focus", "Noise", "Lighting"):
        assert tags[f"XMP-clairvoyance:{a}"] == pytest.approx(getattr(photo.faces[0].scores, a.lower()), abs=1e-4)
    assert tags["XMP-clairvoyance:Faces"].startswith("face 1: box ")


def test_sidecars_sit_next_to_the_originals_and_leave_them_alone(shot):
    d, _ = shot
    assert sorted(p.name for p in d.glob("*.xmp")) == ["IMG_0001.xmp", "IMG_0002.xmp", "blurred.xmp", "dark.xmp", "good.xmp"]


def test_stars_follow_the_lowest_score():
    assert [stars(s) for s in (0.3, 0.55, 0.65, 0.75, 0.85, 0.95)] == [1, 1, 2, 3, 4, 5]


@needs_exiftool
def test_darktable_style_names_the_sidecar_after_the_whole_file_name(tmp_path, astronaut):
    d = tmp_path / "in"
    write_dng(d / "IMG_0003.CR2.dng", astronaut)  # any name: darktable appends .xmp to all of it
    write_jpeg(d / "IMG_0003.jpg", astronaut)
    run(d, tmp_path / "out", xmp="darktable")
    assert sorted(p.name for p in d.glob("*.xmp")) == ["IMG_0003.CR2.dng.xmp", "IMG_0003.jpg.xmp"]
    assert exiftool(d / "IMG_0003.CR2.dng.xmp")[0]["XMP-clairvoyance:Verdict"] == "selected"


def test_raw_and_jpeg_of_one_shot_share_the_adobe_sidecar_and_the_raw_owns_it(tmp_path, astronaut):
    d = tmp_path / "in"
    write_dng(d / "IMG_0004.dng", degrade.defocus_blur(astronaut, 8))
    write_jpeg(d / "IMG_0004.jpg", astronaut)
    run(d, tmp_path / "out", xmp="adobe", correct=False)
    [sidecar] = d.glob("*.xmp")
    assert 'clairvoyance:Verdict="rejected"' in sidecar.read_text()  # the RAW's verdict, not the JPEG's


@needs_exiftool
def test_an_existing_sidecar_keeps_everything_but_our_fields_byte_for_byte(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "blurred.jpg", degrade.defocus_blur(astronaut, 8))
    (d / "blurred.xmp").write_text(LIGHTROOM, encoding="utf-8")
    before = exiftool(d / "blurred.xmp")[0]
    run(d, tmp_path / "out", xmp="adobe")
    text = (d / "blurred.xmp").read_text(encoding="utf-8")
    # the rating is changed where it stood; the user's own label (Red) is not ours to change on a reject
    assert without_our_description(text) == LIGHTROOM.replace('xmp:Rating="0"', 'xmp:Rating="-1"')
    after = exiftool(d / "blurred.xmp")[0]
    for tag in ("XMP-dc:Subject", "XMP-xmpMM:HistoryAction", "XMP-xmpMM:HistorySoftwareAgent", "XMP-crs:Exposure2012",
                "XMP-crs:WhiteBalance", "XMP-xmp:ModifyDate", "XMP-xmp:Label"):
        assert after[tag] == before[tag], tag
    assert after["XMP-dc:Subject"] == ["wedding", "Anna & Ben"]
    assert after["XMP-xmp:Rating"] == -1 and after["XMP-clairvoyance:Verdict"] == "rejected"


def test_rerunning_leaves_an_unchanged_sidecar_untouched(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "blurred.jpg", degrade.defocus_blur(astronaut, 8))
    (d / "blurred.xmp").write_text(LIGHTROOM, encoding="utf-8")
    run(d, tmp_path / "out", xmp="adobe")
    first = (d / "blurred.xmp").read_bytes()
    mtime = (d / "blurred.xmp").stat().st_mtime_ns
    run(d, tmp_path / "out", xmp="adobe")
    assert (d / "blurred.xmp").read_bytes() == first and (d / "blurred.xmp").stat().st_mtime_ns == mtime


def test_rating_written_as_an_element_is_changed_in_place(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "blurred.jpg", degrade.defocus_blur(astronaut, 8))
    element_form = LIGHTROOM.replace('   xmp:Rating="0"\n', "").replace(
        "   <dc:subject>", "   <xmp:Rating>3</xmp:Rating>\n   <dc:subject>")
    (d / "blurred.xmp").write_text(element_form, encoding="utf-8")
    run(d, tmp_path / "out", xmp="adobe")
    text = (d / "blurred.xmp").read_text(encoding="utf-8")
    assert without_our_description(text) == element_form.replace("<xmp:Rating>3<", "<xmp:Rating>-1<")
    assert text.count("<xmp:Rating>") == 1 and "xmp:Rating=" not in text  # not added a second time


def test_our_label_is_taken_back_when_the_verdict_changes_but_a_users_label_stays(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    run(d, tmp_path / "out", xmp="adobe")
    assert f'xmp:Label="{CORRECTED_LABEL}"' in (d / "dark.xmp").read_text()
    run(d, tmp_path / "out", xmp="adobe", correct=False)  # now rejected: the label was ours, it goes
    text = (d / "dark.xmp").read_text()
    assert "xmp:Label" not in text and 'xmp:Rating="-1"' in text


def test_dry_run_says_what_would_change_and_writes_no_sidecar(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "blurred.jpg", degrade.defocus_blur(astronaut, 8))
    (d / "blurred.xmp").write_text(LIGHTROOM, encoding="utf-8")
    write_jpeg(d / "good.jpg", astronaut)
    lines = []
    Clairvoyance(model="classical", input_dir=d, output_dir=tmp_path / "out", xmp="adobe", dry_run=True).run(log=lines.append)
    assert (d / "blurred.xmp").read_text(encoding="utf-8") == LIGHTROOM and not (d / "good.xmp").exists()
    assert "xmp: blurred.xmp would change: xmp:Rating 0 -> -1, verdict none -> rejected" in lines
    assert any(m.startswith("xmp: good.xmp would change: new sidecar: xmp:Rating none -> ") for m in lines)


def test_a_sidecar_that_is_not_xml_is_left_alone_and_reported(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "good.jpg", astronaut)
    (d / "good.xmp").write_bytes(b"<x:xmpmeta><rdf:RDF>broken")
    lines = []
    res = Clairvoyance(model="classical", input_dir=d, output_dir=tmp_path / "out", xmp="adobe").run(log=lines.append)
    assert res.images[0].status == "selected"
    assert (d / "good.xmp").read_bytes() == b"<x:xmpmeta><rdf:RDF>broken"
    assert any("good.xmp" in m and "left unchanged" in m for m in lines)


def test_the_cli_writes_sidecars_with_xmp(cli, tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "good.jpg", astronaut)
    r = cli("run", d, "-o", tmp_path / "out", "--model", "classical", "--xmp", "--xmp-style", "darktable", "-q")
    assert r.exit_code == 0, r.output
    assert (d / "good.jpg.xmp").is_file()


# --- darktable's own colour labels ----------------------------------------------------------------------
#: A sidecar as darktable writes it (through exiv2): one Description, the red label (0) in its own list.
DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:darktable="http://darktable.sf.net/"
   xmp:Rating="2"
   xmpMM:DerivedFrom="dark.jpg"
   darktable:xmp_version="5"
   darktable:history_end="1">
   <darktable:colorlabels>
    <rdf:Seq>
     <rdf:li>0</rdf:li>
    </rdf:Seq>
   </darktable:colorlabels>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:operation="exposure" darktable:enabled="1" darktable:num="0"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def colorlabels(path):
    """darktable's colour labels as exiftool reads them (a list of numbers; [] when there are none)."""
    r = subprocess.run(["exiftool", "-j", "-n", "-XMP-darktable:ColorLabels", str(path)],
                       capture_output=True, text=True, check=True)
    labels = json.loads(r.stdout)[0].get("Colorlabels", [])
    return labels if isinstance(labels, list) else [labels]


@needs_exiftool
def test_darktable_style_sets_darktables_own_purple_label_on_a_corrected_photo(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    write_jpeg(d / "good.jpg", astronaut)
    run(d, tmp_path / "out", xmp="darktable")
    assert colorlabels(d / "dark.jpg.xmp") == [4] and exiftool(d / "dark.jpg.xmp")[0]["XMP-xmp:Label"] == "Purple"
    assert colorlabels(d / "good.jpg.xmp") == []
    run(d, tmp_path / "out", xmp="darktable", correct=False)  # now rejected: the label was ours, it goes
    assert colorlabels(d / "dark.jpg.xmp") == []


@needs_exiftool
def test_our_darktable_label_joins_the_users_labels_and_leaves_them_byte_for_byte(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    (d / "dark.jpg.xmp").write_text(DARKTABLE, encoding="utf-8")
    run(d, tmp_path / "out", xmp="darktable")
    text = (d / "dark.jpg.xmp").read_text(encoding="utf-8")
    assert colorlabels(d / "dark.jpg.xmp") == [0, 4]  # red kept, purple added in darktable's own list
    assert without_our_description(text) == DARKTABLE.replace('xmp:Rating="2"', 'xmp:Rating="1"').replace(
        "     <rdf:li>0</rdf:li>\n", "     <rdf:li>0</rdf:li>\n     <rdf:li>4</rdf:li>\n")
    run(d, tmp_path / "out", xmp="darktable", correct=False)
    text = (d / "dark.jpg.xmp").read_text(encoding="utf-8")
    assert colorlabels(d / "dark.jpg.xmp") == [0]
    assert without_our_description(text) == DARKTABLE.replace('xmp:Rating="2"', 'xmp:Rating="-1"')


@needs_exiftool
def test_a_purple_the_user_chose_in_darktable_is_never_taken_away(tmp_path, astronaut):
    d = tmp_path / "in"
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    (d / "dark.jpg.xmp").write_text(DARKTABLE.replace("<rdf:li>0</rdf:li>", "<rdf:li>4</rdf:li>"), encoding="utf-8")
    run(d, tmp_path / "out", xmp="darktable")  # corrected: purple is there already, and not ours
    assert colorlabels(d / "dark.jpg.xmp") == [4]
    run(d, tmp_path / "out", xmp="darktable", correct=False)
    assert colorlabels(d / "dark.jpg.xmp") == [4]


@needs_exiftool
def test_our_darktable_label_is_taken_back_after_darktable_merged_it_into_its_own_description(tmp_path, astronaut):
    """darktable rewrites a sidecar as one Description: our fields and the label we added end up in its list."""
    d = tmp_path / "in"
    write_jpeg(d / "dark.jpg", degrade.exposure(astronaut, -2.0))
    merged = DARKTABLE.replace('    xmlns:darktable="http://darktable.sf.net/"\n',
                               '    xmlns:darktable="http://darktable.sf.net/"\n'
                               '    xmlns:clairvoyance="https://github.com/clairvoyance/ns/1.0/"\n').replace(
        '   darktable:history_end="1">', '   darktable:history_end="1"\n   clairvoyance:Verdict="corrected"\n'
        '   clairvoyance:Label="Purple"\n   clairvoyance:ColorLabel="4">').replace(
        "     <rdf:li>0</rdf:li>\n", "     <rdf:li>0</rdf:li>\n     <rdf:li>4</rdf:li>\n")
    (d / "dark.jpg.xmp").write_text(merged, encoding="utf-8")
    run(d, tmp_path / "out", xmp="darktable", correct=False)
    assert colorlabels(d / "dark.jpg.xmp") == [0]
    assert exiftool(d / "dark.jpg.xmp")[0]["XMP-clairvoyance:Verdict"] == "rejected"
