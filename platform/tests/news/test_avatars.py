"""news.avatars: what an upload must be to become a member's picture (through HTTP:
tests/news/api/test_members.py)."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from news import avatars
from news.errors import InvalidInput


def upload(content: bytes, name: str = "me.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def picture(size: tuple[int, int], format: str, mode: str = "RGB") -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, "orange" if mode == "RGB" else 1).save(output, format=format)
    return output.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG file of a few dozen bytes whose header says width x height: what a
    decompression bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch):
    """Any decoding of pixels fails the test: a refusal must come from the header alone."""

    def load(self):
        raise AssertionError(f"decoded a {self.size} picture")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize("format", avatars.FORMATS)
def test_each_accepted_format_becomes_a_small_png(format):
    png = avatars.square_png(upload(picture((600, 300), format)))
    with Image.open(io.BytesIO(png)) as result:
        assert (result.format, result.size) == ("PNG", (256, 128))


def test_a_small_file_describing_a_huge_picture_is_refused_before_it_is_decoded(no_decoding):
    bomb = png_claiming(30_000, 30_000)  # 900 megapixels, 3.6 GB decoded
    assert len(bomb) < 200
    with pytest.raises(InvalidInput) as refused:
        avatars.square_png(upload(bomb))
    assert (refused.value.field, str(refused.value)) == ("image", avatars.TOO_MANY_PIXELS)


def test_a_picture_past_the_pixel_limit_is_refused_before_it_is_decoded(no_decoding):
    """Below what Pillow itself refuses (89 megapixels), above what an avatar needs."""
    too_many = png_claiming(2001, 2000)
    assert 2001 * 2000 > avatars.MAX_PIXELS >= 2000 * 2000
    with pytest.raises(InvalidInput, match="too many pixels"):
        avatars.square_png(upload(too_many))


def test_a_real_picture_past_the_pixel_limit_is_refused():
    """A whole 3000 x 3000 PNG of one colour: a few kilobytes, 9 megapixels."""
    content = picture((3000, 3000), "PNG", mode="1")
    assert len(content) < 10_000
    with pytest.raises(InvalidInput, match="too many pixels"):
        avatars.square_png(upload(content))


@pytest.mark.parametrize("format", ["BMP", "TIFF", "PPM"])
def test_a_picture_in_a_format_pillow_reads_but_the_site_does_not_accept_is_refused(format, no_decoding):
    with pytest.raises(InvalidInput) as refused:
        avatars.square_png(upload(picture((64, 64), format), name=f"me.{format.lower()}"))
    assert str(refused.value) == avatars.NOT_A_PICTURE


@pytest.mark.parametrize(
    "content",
    [b"GIF89a but not really", b"", picture((64, 64), "PNG")[:60]],
    ids=["fake", "empty", "cut short"],
)
def test_what_is_not_a_whole_picture_is_refused(content):
    with pytest.raises(InvalidInput) as refused:
        avatars.square_png(upload(content))
    assert str(refused.value) == avatars.NOT_A_PICTURE


def test_a_file_past_the_size_limit_is_refused_unopened(settings, monkeypatch):
    settings.AVATAR_MAX_BYTES = 2048
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("opened"))
    with pytest.raises(InvalidInput, match="larger than 2 KB"):
        avatars.square_png(upload(b"x" * 2049))
