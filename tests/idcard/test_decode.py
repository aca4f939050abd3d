"""Reading the chip ID card's QR code from uploaded images and camera frames (asm/idcard/decode.py)."""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image

from asm.idcard import decode as decode_module
from asm.idcard.decode import (
    ALLOWED_FORMATS,
    DECODERS,
    DEFAULT_DECODER,
    DecodeError,
    Decoder,
    ZbarDecoder,
    ZxingDecoder,
    decode_image_texts,
    decode_qr_texts,
    get_decoder,
    load_image,
)
from tests.support.qrimages import EXAMPLE_CARD_TEXT, photo_like, qr_image, sample_card_texts, to_bytes

DECODER_NAMES = sorted(DECODERS)

# Strings whose UTF-8 bytes zbar's charset guess reads as Shift-JIS, Big5 or Latin-1 (measured with
# libzbar 0.23.92 in text mode), plus a full card string that contains such a short name.
TRICKY_TEXTS = [
    "Nữ",
    "Võ Út",
    "Ngọc Ánh",
    "Lê Thị Ngọc Ánh",
    "Trần Văn Ấn",
    "Ông Văn Tứ",
    "Hương",
    "Ngà",
    "Thủy",
    "Ửng",
    "008196197678||Phạm Mỹ|19121996|Nữ|Thôn Lai Ổn, Phú Lợi, Thủ Đức, Tuyên Quang|25032024",
]


@pytest.fixture(params=DECODER_NAMES)
def decoder(request: pytest.FixtureRequest) -> Decoder:
    return get_decoder(request.param)


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels but holds almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def _saved(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _raises(data: bytes, code: str, status: int, **limits: int) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_qr_texts(data, **limits)
    assert info.value.code == code
    assert info.value.http_status == status
    return info.value


# --- reading codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_example_card_string_is_read_exactly_from_each_format(decoder: Decoder, fmt: str) -> None:
    data = to_bytes(qr_image(EXAMPLE_CARD_TEXT), fmt)  # type: ignore[arg-type]
    assert decode_qr_texts(data, decoder=decoder) == [EXAMPLE_CARD_TEXT]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_strings_that_trip_zbars_charset_guess_are_read_exactly(decoder: Decoder, text: str) -> None:
    assert decoder.decode(qr_image(text)) == [text]
    assert decode_qr_texts(to_bytes(qr_image(text), "PNG"), decoder=decoder) == [text]


def test_zbar_without_binary_mode_garbles_vietnamese() -> None:
    """Proof that binary mode is what makes zbar exact: its default text mode returns mojibake."""
    text_mode = ZbarDecoder(binary=False)
    garbled = {}
    for text in TRICKY_TEXTS:
        found = text_mode.decode(qr_image(text))
        assert len(found) == 1  # the code is found either way: only the text is wrong
        if found != [text]:
            garbled[text] = found[0]
    assert garbled, "zbar's text mode read every string right: the binary-mode test proves nothing"
    assert garbled.get("Nữ", "N盻ｯ") == "N盻ｯ"  # the Shift-JIS reading of DOMAIN.md, when this zbar garbles it


def test_photo_like_frame_is_read(decoder: Decoder) -> None:
    frame = photo_like(
        EXAMPLE_CARD_TEXT,
        size=(1280, 720),
        angle=14,
        blur=0.7,
        noise=5,
        contrast=0.6,
        skew=0.06,
        qr_fraction=0.35,
        jpeg_quality=75,
        seed=3,
    )
    assert frame.size == (1280, 720)
    data = to_bytes(frame, "JPEG", quality=85)
    assert decode_qr_texts(data, decoder=decoder, fallback=False) == [EXAMPLE_CARD_TEXT]


def test_random_photo_like_frames_are_read_exactly_or_not_at_all(decoder: Decoder) -> None:
    """On camera frames a decoder may miss a code, but what it returns must never be mojibake."""
    texts = sample_card_texts(12, seed=5)
    exact = 0
    for i, text in enumerate(texts):
        frame = photo_like(text, size=(640, 480), seed=i)
        try:
            found = decode_image_texts(frame, decoder=decoder)
        except DecodeError as exc:
            assert exc.code == "no_code_found"
            continue
        assert found == [text]
        exact += 1
    assert exact >= 9  # measured: 12/12 for both (docs/DECODERS.md has the full benchmark)


def test_fallback_pass_reads_blurred_frames_the_first_pass_misses() -> None:
    """Out-of-focus frames (a card held too close to a fixed-focus camera): the sharpened retry pays off."""
    zxing = ZxingDecoder()
    first_pass = with_fallback = 0
    for seed in range(20):
        frame = photo_like(EXAMPLE_CARD_TEXT, size=(640, 480), blur=1.3, qr_fraction=0.27, seed=seed)
        for fallback in (False, True):
            try:
                found = decode_image_texts(frame, decoder=zxing, fallback=fallback)
            except DecodeError:
                continue
            assert found == [EXAMPLE_CARD_TEXT]
            if fallback:
                with_fallback += 1
            else:
                first_pass += 1
    assert with_fallback >= first_pass + 5  # measured: 1 of 20 on the first pass, 13 of 20 with the fallback


def test_transparent_png_is_flattened_onto_white(decoder: Decoder) -> None:
    # Dark modules opaque black, light modules fully transparent black: naive RGBA -> L makes it all black.
    mask = qr_image(EXAMPLE_CARD_TEXT).point(lambda v: 255 - v)
    rgba = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    rgba.putalpha(mask)
    assert decode_qr_texts(_saved(rgba, "PNG"), decoder=decoder) == [EXAMPLE_CARD_TEXT]


def test_sixteen_bit_png_is_scaled_not_clipped(decoder: Decoder) -> None:
    img16 = qr_image(EXAMPLE_CARD_TEXT).convert("I").point(lambda v: v * 257).convert("I;16")
    assert decode_qr_texts(_saved(img16, "PNG"), decoder=decoder) == [EXAMPLE_CARD_TEXT]


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    loaded = load_image(_saved(img, "JPEG", exif=exif))
    assert loaded.size == (20, 40)
    assert loaded.mode == "L"


def test_duplicates_are_dropped_and_order_kept() -> None:
    class Twice:
        name = "twice"

        def decode(self, image: Image.Image) -> list[str]:
            return ["b", "a", "b"]

    assert decode_image_texts(Image.new("L", (8, 8)), decoder=Twice()) == ["b", "a"]


def test_invalid_utf8_is_not_guessed_at() -> None:
    assert decode_module.utf8_text("Nữ".encode()) == "Nữ"
    assert decode_module.utf8_text(b"N\xe1\xbb") == "N\ufffd"  # visible, and rejected by the strict parser


# --- rejected uploads ---------------------------------------------------------------------------------


def test_too_many_bytes_is_413_before_anything_is_parsed() -> None:
    _raises(b"\x89PNG" + b"\0" * 200, "image_too_large_bytes", 413, max_bytes=100)
    _raises(to_bytes(qr_image(EXAMPLE_CARD_TEXT, scale=20), "PNG"), "image_too_large_bytes", 413, max_bytes=2_000)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_png_declaring(5_000, 5_000), id="header-25Mpx"),
        pytest.param(_png_declaring(10_000, 10_000), id="header-100Mpx-pillow-warns"),
        pytest.param(_png_declaring(100_000, 100_000), id="header-10Gpx-pillow-refuses"),
    ],
)
def test_too_many_pixels_is_413_from_the_header_alone(data: bytes) -> None:
    # The IDAT holds 16 zero bytes: a full decode would fail as "truncated", so 413 proves it never ran.
    assert len(data) < 200
    _raises(data, "image_too_large_pixels", 413)


def test_large_blank_image_is_413() -> None:
    data = to_bytes(Image.new("L", (4_000, 3_500), 255), "PNG")  # 14 Mpx, a few kB
    _raises(data, "image_too_large_pixels", 413)
    assert load_image(data, max_pixels=14_000_000).size == (4_000, 3_500)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_saved(Image.new("L", (10, 10)), "GIF"), id="gif"),
        pytest.param(_saved(Image.new("L", (10, 10)), "BMP"), id="bmp"),
        pytest.param(_saved(Image.new("L", (10, 10)), "TIFF"), id="tiff"),
        pytest.param("034303011829||Nguyễn Thị Hoa|21032003|Nữ\n".encode(), id="text"),
        pytest.param(b"", id="empty"),
    ],
)
def test_other_types_are_415(data: bytes) -> None:
    _raises(data, "image_type_unsupported", 415)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_files_are_422(fmt: str, keep: float) -> None:
    data = to_bytes(qr_image(EXAMPLE_CARD_TEXT), fmt)  # type: ignore[arg-type]
    _raises(data[: int(len(data) * keep)], "image_unreadable", 422)


@pytest.mark.parametrize(
    "img",
    [
        pytest.param(Image.new("L", (640, 480), 255), id="blank"),
        pytest.param(Image.linear_gradient("L").resize((640, 480)), id="gradient"),
        pytest.param(Image.frombytes("L", (320, 240), bytes((i * 7919) % 251 for i in range(320 * 240))), id="noise"),
    ],
)
def test_image_without_a_code_is_422(decoder: Decoder, img: Image.Image) -> None:
    with pytest.raises(DecodeError) as info:
        decode_qr_texts(to_bytes(img, "PNG"), decoder=decoder)
    assert (info.value.code, info.value.http_status) == ("no_code_found", 422)


def test_format_comes_from_the_bytes_not_a_name() -> None:
    assert {"JPEG", "PNG", "WEBP"} == ALLOWED_FORMATS
    jpeg = to_bytes(qr_image(EXAMPLE_CARD_TEXT), "JPEG")
    assert load_image(jpeg).mode == "L"  # no content type is passed in at all


# --- errors, registry, availability -------------------------------------------------------------------


def test_error_messages_in_both_languages() -> None:
    err = _raises(b"x" * 9_000_001, "image_too_large_bytes", 413)
    assert err.message("vi") == err.message_vi == "Tệp ảnh quá lớn (9 MB); tối đa 8 MB."
    assert err.message("vi_VN") == err.message_vi
    assert err.message("en") == err.message_en == "The image file is too large (9 MB); the limit is 8 MB."
    err = DecodeError("image_too_large_pixels", limit=decode_module._millions(2_500_000))
    assert "2,5 triệu" in err.message_vi and "2.5 megapixels" in err.message_en
    assert err.to_dict("en") == {"code": "image_too_large_pixels", "message": err.message_en}
    assert isinstance(err, ValueError)
    with pytest.raises(KeyError):
        DecodeError("no_such_code")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("image_too_large_bytes", 413),
        ("image_too_large_pixels", 413),
        ("image_type_unsupported", 415),
        ("image_unreadable", 422),
        ("no_code_found", 422),
        ("decoder_unavailable", 503),
    ],
)
def test_every_code_has_status_and_messages(code: str, status: int) -> None:
    err = DecodeError(code, size=1.5, limit=1.0, name="zbar")
    assert err.http_status == status
    assert err.message_vi and err.message_en and err.message_vi != err.message_en


def test_registry() -> None:
    assert DEFAULT_DECODER in DECODERS
    for name in DECODER_NAMES:
        dec = get_decoder(name)
        assert isinstance(dec, Decoder)
        assert dec.name == name
        assert get_decoder(name) is dec
    with pytest.raises(DecodeError) as info:
        get_decoder("quirc")
    assert (info.value.code, info.value.http_status) == ("decoder_unavailable", 503)


@pytest.fixture
def no_libzbar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pretend pyzbar (or the libzbar0 it loads on import) is missing."""
    decode_module._zbar.cache_clear()
    monkeypatch.setitem(sys.modules, "pyzbar", None)
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    yield
    decode_module._zbar.cache_clear()


@pytest.mark.usefixtures("no_libzbar")
def test_missing_zbar_is_503_and_zxing_still_works() -> None:
    with pytest.raises(DecodeError) as info:
        ZbarDecoder()
    assert (info.value.code, info.value.http_status) == ("decoder_unavailable", 503)
    assert "zbar" in info.value.message_en
    data = to_bytes(qr_image(EXAMPLE_CARD_TEXT), "PNG")
    assert decode_qr_texts(data, decoder=ZxingDecoder()) == [EXAMPLE_CARD_TEXT]
