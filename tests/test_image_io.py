"""Every kind of bad photo gives a specific ImageError or a correct RGB array, never a crash."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceguard.core.errors import ImageError
from faceguard.vision.image_io import read_image

DATA = Path(__file__).parent / "data"


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def test_reads_a_jpeg_as_rgb_uint8():
    image = read_image(DATA / "obama.jpg")
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[:2] == (1137, 910)


def test_empty_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_image(tmp_path / "empty.jpg")


def test_not_an_image(tmp_path):
    (tmp_path / "notes.jpg").write_text("this is a text file, not a photo\n" * 20)
    with pytest.raises(ImageError, match="not an image"):
        read_image(tmp_path / "notes.jpg")


def test_truncated_jpeg(tmp_path):
    data = (DATA / "obama.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageError, match="damaged or truncated"):
        read_image(tmp_path / "cut.jpg")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path / "nobody.jpg")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


def test_one_pixel(tmp_path):
    image = read_image(save(Image.new("RGB", (1, 1), (10, 20, 30)), tmp_path / "dot.png"))
    assert image.shape == (1, 1, 3) and tuple(image[0, 0]) == (10, 20, 30)


def test_grayscale_expands_to_three_equal_channels(tmp_path):
    gray = Image.open(DATA / "obama.jpg").convert("L")
    image = read_image(save(gray, tmp_path / "gray.png"))
    assert image.shape[2] == 3 and np.array_equal(image[..., 0], image[..., 2])


def test_rgba_is_flattened_onto_white(tmp_path):
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    rgba.putpixel((0, 0), (0, 0, 255, 255))
    image = read_image(save(rgba, tmp_path / "alpha.png"))
    assert tuple(image[0, 0]) == (0, 0, 255) and tuple(image[3, 3]) == (255, 255, 255)


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)  # full 16-bit range
    image = read_image(save(Image.fromarray(ramp), tmp_path / "deep.png"))
    assert image.dtype == np.uint8 and image[0, 0, 0] == 0 and image[15, 15, 0] == 255
    assert image[8, 0, 0] == 128  # mid-grey stays mid-grey


def test_exif_orientation_is_applied(tmp_path):
    photo = Image.new("RGB", (40, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    image = read_image(save(photo, tmp_path / "rotated.jpg", exif=exif))
    assert image.shape[:2] == (40, 20)


def test_huge_jpeg_is_decoded_reduced_and_huge_png_is_refused(tmp_path):
    # 14000x14000 (196 MP): past Pillow's decompression-bomb limit, where Image.open refuses it, so the JPEG
    # is decoded at 1/8 scale in draft mode; a PNG of that size is refused.
    side = 14000
    assert side * side > 2 * Image.MAX_IMAGE_PIXELS
    big_jpeg = save(Image.new("RGB", (side, side), (90, 90, 90)), tmp_path / "big.jpg", quality=50)
    image = read_image(big_jpeg)
    assert image.shape == (side // 8, side // 8, 3) and (image == 90).all()
    # found by fuzzing: OpenCV, which decoded these before, called a cut one too large rather than truncated
    cut = big_jpeg.read_bytes()
    with pytest.raises(ImageError, match="damaged or truncated"):
        read_image(cut[: len(cut) // 2])
    big_png = save(Image.new("L", (side, side), 0), tmp_path / "big.png", compress_level=1)
    with pytest.raises(ImageError, match="too large"):
        read_image(big_png)


def test_bytes_source():
    assert read_image((DATA / "biden.jpg").read_bytes()).shape[2] == 3
