"""Members' pictures: whatever a member uploads is re-encoded as a small PNG, so the
site only ever serves pictures it wrote itself.

A small file can describe a huge picture (a decompression bomb: a PNG of a few
kilobytes may say it is 30,000 pixels a side, a gigabyte once decoded). Pillow is
asked to read only the formats accepted here, and the picture's size, read from its
header, is checked before a single pixel is decoded.
"""

import io

from django.conf import settings
from django.core.files import File
from PIL import Image, UnidentifiedImageError

from news.errors import InvalidInput

SIZE = 256  # the longer side, in pixels
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# Pixels a picture may have: it is shown at most SIZE pixels a side, and 4 megapixels
# (2000 x 2000, a photo scaled for the web) is plenty to start from. Decoded, that is
# at most 16 MB (four bytes a pixel) for each upload in flight; Pillow's own limit
# (Image.MAX_IMAGE_PIXELS, 89 megapixels, refused only from twice that) would let a
# 2 MB file take over 700 MB.
MAX_PIXELS = 4_000_000

NOT_A_PICTURE = "The file is not a picture this site can read: send a PNG, JPEG, GIF or WebP image."
TOO_MANY_PIXELS = (
    f"The picture has too many pixels: at most {MAX_PIXELS // 1_000_000} megapixels "
    "(2000 x 2000, say). Scale it down and send it again."
)


def square_png(upload: File) -> bytes:
    """The upload re-encoded as a PNG of at most SIZE pixels a side; InvalidInput for
    what is too large or not a picture this site reads."""
    if upload.size > settings.AVATAR_MAX_BYTES:
        raise InvalidInput("image", f"The picture is larger than {settings.AVATAR_MAX_BYTES // 1024} KB.")
    try:
        # Opening reads the header only: the format and the size in pixels.
        with Image.open(upload, formats=FORMATS) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                raise InvalidInput("image", TOO_MANY_PIXELS)
            picture.thumbnail((SIZE, SIZE))  # the first decoding
            output = io.BytesIO()
            picture.convert("RGBA").save(output, format="PNG", optimize=True)
    except Image.DecompressionBombError:  # Pillow's own check, at opening: far past MAX_PIXELS
        raise InvalidInput("image", TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):  # another format, cut short, corrupt
        raise InvalidInput("image", NOT_A_PICTURE) from None
    return output.getvalue()
