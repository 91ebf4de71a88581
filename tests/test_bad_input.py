"""The bad-input corpus: every kind of awkward file gets a clear result of its own and the run finishes
the rest; symlinks never lead outside the input tree; originals are never written.
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PIL import Image

from clairvoyance import Clairvoyance, ImageLoadError, images
from clairvoyance.images import read_photo

from conftest import exif_rotated_jpeg, jpeg_bytes, png_header_only, tree_hashes, write_jpeg, write_png

ERRORS = {  # file -> a word its error message must contain
    "corrupt.jpg": "corrupt",
    "truncated.jpg": "truncated",
    "empty.jpg": "empty",
    "phone.heic": "unsupported",
    "camera raw.CR2": "unsupported",
    "bomb.png": "too large",
}
READABLE = [  # readable in every mode and name; each holds one face
    "good.jpg", "gray.jpg", "cmyk.jpg", "gray16.png", "rgb16.png", "rgba.png", "rotated.jpg",
    "Grüße aus Köln – 2.jpg", "nested/deeper/still/hopper.jpg",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, astronaut, hopper):
    root = tmp_path_factory.mktemp("corpus")
    d = root / "in"
    write_jpeg(d / "good.jpg", astronaut)
    (d / "notes.txt").write_text("shot list")
    (d / "sidecar.xmp").write_text("<x:xmpmeta/>")
    (d / "corrupt.jpg").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (d / "truncated.jpg").write_bytes(jpeg_bytes(astronaut)[:5000])
    (d / "empty.jpg").write_bytes(b"")
    (d / "phone.heic").write_bytes(b"\0\0\0\x18ftypheic" + bytes(64))
    (d / "camera raw.CR2").write_bytes(b"II*\0\x10\0\0\0CR" + bytes(64))
    (d / "bomb.png").write_bytes(png_header_only(30000, 30000))  # 900 MP claimed, 100 bytes on disk
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    Image.fromarray(gray).save(d / "gray.jpg", quality=92)
    Image.fromarray(astronaut).convert("CMYK").save(d / "cmyk.jpg", quality=92)
    write_png(d / "gray16.png", Image.fromarray(gray.astype(np.uint16) * 257))
    cv2.imwrite(str(d / "rgb16.png"), astronaut[..., ::-1].astype(np.uint16) * 257)
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    rgba[:100, :, 3] = 0  # a transparent band at the top
    write_png(d / "rgba.png", Image.fromarray(rgba, "RGBA"))
    (d / "rotated.jpg").write_bytes(exif_rotated_jpeg(hopper))
    write_jpeg(d / "upright.jpg", hopper)  # the same picture stored upright, for the box comparison
    write_jpeg(d / "Grüße aus Köln – 2.jpg", hopper)
    write_jpeg(d / "nested" / "deeper" / "still" / "hopper.jpg", hopper)
    # links: one leaving the input tree (never followed), one to a folder outside, one staying inside
    outside = root / "outside"
    write_jpeg(outside / "private.jpg", astronaut)
    os.symlink(outside / "private.jpg", d / "escape.jpg")
    os.symlink(outside, d / "escape_dir")
    os.symlink(d / "good.jpg", d / "alias.jpg")
    hashes = tree_hashes(root)
    res = Clairvoyance(model="classical", input_dir=d, output_dir=root / "out").run(log=lambda m: None)
    return root, d, res, hashes


def by_file(res):
    return {r.file: r for r in res.images}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_each_unreadable_file_is_an_error_with_a_clear_message(corpus, name):
    r = by_file(corpus[2])[name]
    assert r.status == "error" and ERRORS[name] in r.error.lower()
    assert r.faces == () and r.outputs == ()


@pytest.mark.parametrize("name", READABLE)
def test_each_readable_mode_and_name_is_processed(corpus, name):
    r = by_file(corpus[2])[name]
    assert r.status != "error", r.error
    assert len(r.faces) == 1 and not r.faces[0].whole_image


def test_the_run_finishes_every_file(corpus):
    _, _, res, _ = corpus
    assert set(by_file(res)) == set(ERRORS) | set(READABLE) | {"upright.jpg", "alias.jpg"}
    assert not res.ok


def test_non_image_files_are_skipped_and_listed(corpus):
    _, _, res, _ = corpus
    assert "notes.txt (not an image file)" in res.skipped
    assert "sidecar.xmp (not an image file)" in res.skipped
    assert "notes.txt" not in by_file(res)


def test_a_symlink_out_of_the_input_tree_is_never_followed(corpus):
    root, _, res, _ = corpus
    assert "escape.jpg" not in by_file(res)
    assert any(s.startswith("escape.jpg") and "outside" in s for s in res.skipped)
    assert not any("escape_dir" in r.file or "private" in r.file for r in res.images)
    assert not list((root / "out").rglob("private.jpg")) and not list((root / "out").rglob("escape*"))


def test_a_symlink_inside_the_tree_is_just_another_name(corpus):
    r = by_file(corpus[2])["alias.jpg"]
    assert r.status == "selected"


def test_exif_rotated_photo_has_boxes_in_upright_coordinates(corpus, hopper):
    _, d, res, _ = corpus
    rotated, upright = by_file(res)["rotated.jpg"], by_file(res)["upright.jpg"]
    assert read_photo(d / "rotated.jpg").size == (hopper.shape[1], hopper.shape[0])  # 512 wide, 600 high
    a, b = rotated.faces[0].box, upright.faces[0].box
    assert max(abs(a.x - b.x), abs(a.y - b.y), abs(a.w - b.w), abs(a.h - b.h)) <= 6


def test_originals_and_everything_outside_the_output_are_unchanged(corpus):
    root, _, _, hashes = corpus
    after = tree_hashes(root)
    assert {k: after.get(k) for k in hashes} == hashes
    assert all(k.startswith("out/") for k in set(after) - set(hashes))


def test_grayscale_cmyk_16_bit_and_alpha_decode_to_8_bit_rgb(corpus):
    _, d, _, _ = corpus
    for name in ("gray.jpg", "cmyk.jpg", "gray16.png", "rgb16.png", "rgba.png"):
        p = read_photo(d / name)
        assert p.rgb.shape == (512, 512, 3) and p.rgb.dtype == np.uint8, name
    assert (read_photo(d / "rgba.png").rgb[:100] == 255).all()  # transparency composited onto white
    g16 = read_photo(d / "gray16.png").rgb.astype(int)
    g8 = read_photo(d / "gray.jpg").rgb.astype(int)
    assert abs(g16.mean() - g8.mean()) < 2  # 16-bit levels scaled down, not clipped


def test_the_pixel_guard_is_read_at_call_time(monkeypatch, good_jpeg):
    monkeypatch.setattr(images, "MAX_PIXELS", 100_000)
    with pytest.raises(ImageLoadError, match="too large"):
        read_photo(good_jpeg)  # 512 x 512 = 262 144 pixels


def test_a_photo_over_the_pixel_guard_fails_alone(monkeypatch, tmp_path, astronaut):
    write_jpeg(tmp_path / "in" / "small.jpg", cv2.resize(astronaut, (300, 300), interpolation=cv2.INTER_AREA))
    write_jpeg(tmp_path / "in" / "big.jpg", astronaut)
    monkeypatch.setattr(images, "MAX_PIXELS", 200_000)
    res = Clairvoyance(model="classical", input_dir=tmp_path / "in", dry_run=True).run(log=lambda m: None)
    assert {r.file: r.status for r in res.images} == {"big.jpg": "error", "small.jpg": "selected"}


def test_a_large_photo_is_detected_on_a_reduced_decode_with_boxes_in_original_pixels(tmp_path, astronaut):
    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    cv = Clairvoyance(model="classical")
    small_box = cv.identify(write_jpeg(tmp_path / "small.jpg", astronaut))[0].box
    [face] = cv.identify(write_jpeg(tmp_path / "big.jpg", big))
    for got, want in zip(face.box.as_list(), small_box.as_list()):
        assert abs(got - 4 * want) <= 16
    assert face.crop.shape == (256, 256, 3)
