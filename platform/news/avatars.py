"""Members' pictures: whatever a member uploads is re-encoded as a small PNG, so the
site only ever serves pictures it wrote itself."""

import io

from django.conf import settings
from django.core.files import File
from PIL import Image, UnidentifiedImageError

from news.errors import InvalidInput

SIZE = 256  # the longer side, in pixels
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# A picture of more pixels than this is refused before it is decoded (a decompression bomb).
Image.MAX_IMAGE_PIXELS = 4096 * 4096


def square_png(upload: File) -> bytes:
    """The upload re-encoded as a PNG of at most SIZE pixels a side; InvalidInput for
    what is too large or not a picture this site reads."""
    if upload.size > settings.AVATAR_MAX_BYTES:
        raise InvalidInput("image", f"The picture is larger than {settings.AVATAR_MAX_BYTES // 1024} KB.")
    try:
        with Image.open(upload) as picture:
            if picture.format not in FORMATS:
                raise InvalidInput("image", "The picture must be a PNG, JPEG, GIF or WebP image.")
            picture.thumbnail((SIZE, SIZE))
            output = io.BytesIO()
            picture.convert("RGBA").save(output, format="PNG", optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise InvalidInput("image", "The file is not a picture this site can read.") from None
    return output.getvalue()
