"""A fake camera for headless Chromium: a Y4M video of a card's QR code, which Chromium's fake capture device loops
(`--use-file-for-fake-video-capture`). Used by the kiosk and desk browser tests and by `python -m bench device`."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.support.qrimages import qr_image


def write_y4m(path: Path, frame: Image.Image, *, frames: int = 10, fps: int = 10) -> None:
    """A YUV4MPEG2 video (4:2:0, JPEG chroma siting) repeating one frame: Chromium's fake camera loops it."""
    width, height = frame.size
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (
        y.tobytes() + cb.resize(half, Image.Resampling.BOX).tobytes() + cr.resize(half, Image.Resampling.BOX).tobytes()
    )
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + planes)


def card_frame(text: str, size: tuple[int, int] = (640, 480), scale: int = 7) -> Image.Image:
    """A camera frame: the card's QR code in the middle of a light grey scene."""
    frame = Image.new("RGB", size, (214, 218, 222))
    code = qr_image(text, scale=scale).convert("RGB")
    frame.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
    return frame


def fake_camera_args(video: Path) -> list[str]:
    """Chromium's switches for a camera that shows `video`, granted without a prompt."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
