"""The formats photographers bring: camera RAW (a real DNG that LibRaw decodes; CR3, RAF, ORF and RW2 whose
EXIF is not a plain TIFF's), HEIC, 16-bit and float TIFF, PNG and WebP; every output keeps the original's EXIF,
colour profile and orientation, a corrected RAW is a 16-bit TIFF, and a corrected file says that
Clairvoyance edited it."""
from __future__ import annotations

import io
import json
import shutil
import subprocess

import cv2
import numpy as np
import pytest
import rawpy
from PIL import Image

from clairvoyance import Clairvoyance, ImageLoadError, degrade
from clairvoyance.detection import square_box
from clairvoyance.exif import raw_exif
from clairvoyance.images import read_photo
from clairvoyance.pipeline import REGION_MARGIN
from clairvoyance.publish import encode_image

from conftest import write_jpeg
from photo_files import (camera_exif, shot_exif, srgb_icc, write_cr3, write_dng, write_heic, write_orf, write_raf,
                         write_rw2, write_tiff16)

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="exiftool missing (make test installs libimage-exiftool-perl)")


def run(d, out, **kw):
    return Clairvoyance(model="classical", input_dir=d, output_dir=out, **kw).run(log=lambda m: None)


def exif_of(path) -> Image.Exif:
    from clairvoyance.images import register_heif

    register_heif()
    with Image.open(path) as im:
        return im.getexif()


# --- RAW -------------------------------------------------------------------------------------------
def test_a_raw_file_is_scored_on_its_preview_and_decoded_in_full_when_asked(tmp_path, astronaut):
    p = write_dng(tmp_path / "IMG_0001.DNG", astronaut)
    preview = read_photo(p, max_side=256)
    full = read_photo(p)
    assert preview.preview and not full.preview
    assert preview.size == full.size == (512, 512)
    assert np.abs(preview.rgb.astype(int) - astronaut).mean() < 4  # the camera's JPEG
    assert np.corrcoef(full.rgb.ravel(), astronaut.ravel())[0, 1] > 0.9  # LibRaw's demosaic of the mosaic


def test_a_raw_files_orientation_turns_preview_and_demosaic_upright(tmp_path, hopper):
    stored = np.ascontiguousarray(np.rot90(hopper, 1))  # the sensor's view of a portrait shot
    p = write_dng(tmp_path / "portrait.dng", stored, orientation=6)
    preview, full = read_photo(p, max_side=256), read_photo(p)
    assert preview.size == full.size == (hopper.shape[1], hopper.shape[0])
    assert preview.rgb.shape[:2] == full.rgb.shape[:2] == hopper.shape[:2]
    assert np.abs(preview.rgb.astype(int) - hopper).mean() < 6


def test_raw_photos_go_through_the_run_with_their_exif(tmp_path, astronaut):
    d = tmp_path / "in"
    write_dng(d / "good.dng", astronaut, make="Canon", model="EOS Test")
    write_dng(d / "dark.dng", degrade.exposure(astronaut, -2.5), make="Canon", model="EOS Test")
    res = {r.file: r for r in run(d, tmp_path / "out").images}
    assert res["good.dng"].status == "selected" and res["good.dng"].outputs == ("Final/good.dng",)
    assert (tmp_path / "out/Final/good.dng").read_bytes() == (d / "good.dng").read_bytes()
    dark = res["dark.dng"]
    assert dark.status == "corrected", dark.reason
    out = tmp_path / "out" / dark.outputs[0]
    assert out.suffix == ".tif"  # a RAW is corrected into a lossless TIFF
    ex = exif_of(out)
    assert (ex[0x010F], ex[0x0110], ex[0x0131]) == ("Canon", "EOS Test", "Clairvoyance")
    with Image.open(out) as im:
        assert im.size == (512, 512)  # from the full demosaic


def test_a_corrected_raw_is_a_16_bit_tiff_that_keeps_the_demosaic_wherever_the_correction_did_not_touch(
        tmp_path, astronaut):
    d = tmp_path / "in"
    write_dng(d / "soft.dng", degrade.defocus_blur(astronaut, 3))
    [r] = run(d, tmp_path / "out").images
    assert r.status == "corrected" and r.outputs[0].endswith("soft_corrected-focus.tif"), r.reason
    out = cv2.imread(str(tmp_path / "out" / r.outputs[0]), cv2.IMREAD_UNCHANGED)[..., ::-1]
    with rawpy.imread(str(d / "soft.dng")) as raw:
        demosaic = raw.postprocess(use_camera_wb=True, output_bps=16)
    assert out.dtype == np.uint16 and out.shape == demosaic.shape
    region = square_box(r.faces[0].box, 512, 512, margin=REGION_MARGIN)  # where a face's correction may reach
    inside = np.zeros(out.shape[:2], bool)
    inside[region.y : region.y + region.h, region.x : region.x + region.w] = True
    changed = np.any(out != demosaic, axis=2)
    assert changed[inside].mean() > 0.2 and not changed[~inside].any()
    step = out.astype(int) - demosaic  # the 8-bit correction, added to the 16 bits as a residual
    assert np.all((step % 257 == 0) | (out == 0) | (out == 65535))


# --- RAW whose EXIF is not a plain TIFF's: CR3, RAF, ORF, RW2 -------------------------------------------
#: What a camera writes about a shot; read back with exiftool from the original and from the output.
SHOT_TAGS = ("Make", "Model", "ModifyDate", "DateTimeOriginal", "ExposureTime", "FNumber", "ISO", "LensModel",
             "GPSLatitude", "GPSLatitudeRef", "GPSLongitude", "GPSLongitudeRef")
#: Files with a camera's structure, by name: how each is written, and the file type exiftool sees in it.
SHOTS = {
    "IMG_0001.CR3": (write_cr3, "CR3"),
    "DSCF0001.RAF": (lambda p, rgb: write_raf(p, rgb, shot_exif()), "RAF"),
    "P5010001.ORF": (lambda p, rgb: write_orf(p, rgb, b"IIRO"), "ORF"),
    "P5010002.ORF": (lambda p, rgb: write_orf(p, rgb, b"IIRS"), "ORF"),
    "P5010003.ORF": (lambda p, rgb: write_orf(p, rgb, b"MMOR"), "ORF"),
    "P1000001.RW2": (lambda p, rgb: write_rw2(p, rgb, shot_exif("Panasonic", "DC-GH5", "LEICA DG 12-60/F2.8-4.0")),
                     "RW2"),
}
SHOT_IDS = {"P5010001.ORF": "ORF-IIRO", "P5010002.ORF": "ORF-IIRS", "P5010003.ORF": "ORF-MMOR"}


def exiftool_tags(path, tags=SHOT_TAGS) -> dict:
    r = subprocess.run(["exiftool", "-j", "-n", *(f"-{t}" for t in tags), str(path)],
                       capture_output=True, text=True, check=True)
    return {k: v for k, v in json.loads(r.stdout)[0].items() if k != "SourceFile"}


def write_shot(path, rgb):
    return SHOTS[path.name][0](path, rgb)


@needs_exiftool
@pytest.mark.parametrize("name", SHOTS, ids=lambda n: SHOT_IDS.get(n, n))
def test_the_exif_of_a_cr3_raf_orf_or_rw2_ends_up_in_its_corrected_16_bit_tiff(tmp_path, astronaut, name):
    """LibRaw cannot decode the pixels of these made-up files (they hold no sensor data it reads); their
    structure is a camera's, and exiftool reads the same tags from them as from the output. (A RW2's
    exposure, lens and GPS are only in the EXIF of its embedded JPEG.)"""
    src = write_shot(tmp_path / name, astronaut)
    assert exiftool_tags(src, ("FileType",)) == {"FileType": SHOTS[name][1]}
    camera = exiftool_tags(src)
    assert set(camera) == set(SHOT_TAGS)  # the original holds every tag
    out = tmp_path / "out.tif"
    out.write_bytes(encode_image(astronaut.astype(np.uint16) * 257, ".tif", raw_exif(src, orientation=1)))
    assert exiftool_tags(out) == camera
    assert exiftool_tags(out, ("Software", "BitsPerSample")) == {"Software": "Clairvoyance", "BitsPerSample": "16 16 16"}


@needs_exiftool
def test_a_rw2_without_its_jpeg_keeps_the_camera_and_iso_of_its_own_tags(tmp_path, astronaut):
    src = write_rw2(tmp_path / "P1000002.RW2", astronaut)  # no JpgFromRaw: IFD 0 is all there is
    tags = ("Make", "Model", "ISO")
    out = tmp_path / "out.tif"
    out.write_bytes(encode_image(astronaut.astype(np.uint16) * 257, ".tif", raw_exif(src, orientation=1)))
    assert exiftool_tags(out, tags) == exiftool_tags(src, tags) == {"Make": "Panasonic", "Model": "DC-GH5", "ISO": 400}


@needs_exiftool
@pytest.mark.parametrize("name", ["IMG_0001.CR3", "P5010001.ORF", "P1000001.RW2"])
def test_a_run_corrects_a_raw_with_its_own_exif(tmp_path, astronaut, monkeypatch, name):
    """The run end to end on a CR3, ORF or RW2: LibRaw decodes a DNG's pixels in its place (these files
    hold none it reads), the EXIF comes from the file itself."""
    pixels = write_dng(tmp_path / "pixels.dng", degrade.exposure(astronaut, -2.5))
    real = rawpy.imread
    monkeypatch.setattr(rawpy, "imread", lambda p: real(str(pixels) if str(p).endswith(name) else p))
    d = tmp_path / "in"
    src = write_shot(d / name, astronaut)
    [r] = run(d, tmp_path / "out").images
    assert r.status == "corrected" and r.outputs[0].endswith(".tif"), r.reason
    assert exiftool_tags(tmp_path / "out" / r.outputs[0]) == exiftool_tags(src)


def test_a_raw_whose_metadata_cannot_be_found_gets_no_exif_rather_than_a_wrong_one(tmp_path, astronaut):
    cr3 = write_cr3(tmp_path / "a.CR3", astronaut)
    cr3.write_bytes(cr3.read_bytes()[:200])  # cut inside the metadata
    raf = write_raf(tmp_path / "b.RAF", astronaut, shot_exif())
    raf.write_bytes(raf.read_bytes()[:100])
    orf, rw2 = write_orf(tmp_path / "c.ORF", astronaut), write_rw2(tmp_path / "d.RW2", astronaut, shot_exif())
    for p in (orf, rw2):
        p.write_bytes(p.read_bytes()[:100])  # cut inside IFD 0
    assert [raw_exif(p) for p in (cr3, raf, orf, rw2)] == [None] * 4


def test_a_broken_raw_file_is_a_clear_error(tmp_path, astronaut):
    p = write_dng(tmp_path / "x.nef", astronaut)
    p.write_bytes(p.read_bytes()[:300])
    with pytest.raises(ImageLoadError, match="RAW"):
        read_photo(p)


# --- HEIC ------------------------------------------------------------------------------------------
def test_heic_photos_are_read_and_corrected_into_heic_with_exif_and_profile(tmp_path, astronaut):
    icc = srgb_icc()
    d = tmp_path / "in"
    write_heic(d / "phone.heic", astronaut, camera_exif(), icc)
    write_heic(d / "dark.HEIC", degrade.exposure(astronaut, -2.5), camera_exif(), icc)
    photo = read_photo(d / "phone.heic")
    assert np.abs(photo.rgb.astype(int) - astronaut).mean() < 4 and photo.icc == icc
    res = {r.file: r for r in run(d, tmp_path / "out").images}
    assert res["phone.heic"].status == "selected"
    dark = res["dark.HEIC"]
    assert dark.status == "corrected", dark.reason
    out = tmp_path / "out" / dark.outputs[0]
    assert out.suffix == ".heic"
    fixed = read_photo(out)
    assert fixed.icc == icc and exif_of(out)[0x010F] == "TestCam" and exif_of(out)[0x0131] == "Clairvoyance"


# --- TIFF, PNG, WebP -------------------------------------------------------------------------------
def test_16_bit_tiff_is_read_to_8_bits(tmp_path, astronaut):
    photo = read_photo(write_tiff16(tmp_path / "scan.tif", astronaut))
    assert photo.rgb.dtype == np.uint8 and np.abs(photo.rgb.astype(int) - astronaut).max() <= 1


def test_a_tiff_pillow_cannot_decode_is_read_through_opencv(tmp_path, astronaut):
    p = tmp_path / "float.tiff"
    assert cv2.imwrite(str(p), astronaut[..., ::-1].astype(np.float32) / 255.0)  # 32-bit float RGB
    photo = read_photo(p)
    assert np.abs(photo.rgb.astype(int) - astronaut).max() <= 1


@pytest.mark.parametrize("ext, fmt", [(".png", "PNG"), (".webp", "WEBP"), (".tif", "TIFF"), (".jpg", "JPEG")])
def test_corrected_outputs_keep_exif_icc_and_orientation(tmp_path, hopper, ext, fmt):
    """The original is stored on its side with orientation 6; the corrected copy is stored upright
    (orientation 1) with the camera's EXIF and the colour profile kept."""
    icc = srgb_icc()
    stored = np.ascontiguousarray(np.rot90(degrade.exposure(hopper, -2.5), 1))
    d = tmp_path / "in"
    d.mkdir()
    opts = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "WEBP":
        opts["lossless"] = True
    Image.fromarray(stored).save(d / f"dark{ext}", format=fmt, exif=camera_exif(orientation=6), icc_profile=icc, **opts)
    [r] = run(d, tmp_path / "out").images
    assert r.status == "corrected", r.reason
    out = tmp_path / "out" / r.outputs[0]
    assert out.suffix == ext
    with Image.open(out) as im:
        assert im.size == (hopper.shape[1], hopper.shape[0])  # upright
        assert im.info.get("icc_profile") == icc
        ex = im.getexif()
        iso = ex.get_ifd(0x8769).get(0x8827)
    assert ex[0x0112] == 1 and ex[0x010F] == "TestCam" and ex[0x0131] == "Clairvoyance"
    assert iso == 400  # the Exif sub-IFD survives


def test_selected_photos_are_byte_identical_copies_whatever_the_format(tmp_path, astronaut):
    d = tmp_path / "in"
    write_tiff16(d / "scan.tif", astronaut)
    Image.fromarray(astronaut).save(d / "web.webp", quality=95)
    write_jpeg(d / "a.jpg", astronaut)
    res = run(d, tmp_path / "out")
    assert {r.status for r in res.images} == {"selected"}
    for r in res.images:
        assert (tmp_path / "out" / r.outputs[0]).read_bytes() == (d / r.file).read_bytes()


def test_an_output_from_an_original_without_exif_is_still_marked_as_edited(tmp_path, astronaut):
    from clairvoyance.publish import encode_image

    with Image.open(io.BytesIO(encode_image(astronaut, ".png"))) as im:
        assert im.getexif()[0x0131] == "Clairvoyance"
