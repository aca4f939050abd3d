"""Accessibility and layout checks run inside the test browser (issue 17).

- ``axe(page)``: axe-core (npm, ``node_modules/axe-core/axe.min.js``, installed by ``make setup``) on the page as it
  is now, with the WCAG 2.0/2.1 A and AA rules and axe's best practices. The engine is given to the browser by
  Playwright (``install_axe(context)``: a script the browser runs in every page it opens), never from a CDN, and
  the site's Content-Security-Policy stays as it is.
- ``layout(page)``: geometry, measured in the browser: the page does not scroll sideways; every visible control is
  inside the page's width, not clipped by a box around it, its text not cut, and at least ``min_target`` CSS px
  in both directions (links inside running text and table cells excepted, as WCAG 2.5.5 does); with
  ``whole_screen=True`` (the kiosk) every control must also be inside the viewport's height, with no scrolling.

Both return plain lists of findings so that a test can gather them over many pages and report them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The four sizes of issue 17: a phone, a 10" tablet, and the kiosk's two screens (CSS px).
SIZES: dict[str, dict[str, int]] = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 1024, "height": 768},
    "kiosk": {"width": 1280, "height": 800},
    "kiosk-hd": {"width": 1920, "height": 1080},
}
# Text at 200 % (WCAG 1.4.4) is the 1280x800 screen zoomed twice: 640x400 CSS px, checked by geometry.
ZOOM_200 = {"width": 640, "height": 400}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")
MIN_TARGET = 44  # CSS px, WCAG 2.5.5
KIOSK_MIN_TARGET = 54  # the kiosk's controls are 3 rem, and its smallest root size is 18 px


def install_axe(context: Any) -> None:
    """Make axe-core available in every page of a Playwright browser context (before the page's own scripts)."""
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make setup` (npm ci installs axe-core)")
    context.add_init_script(path=str(AXE_JS))


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING

    def __str__(self) -> str:
        return f"[{self.impact}] {self.rule}: {self.help} at {', '.join(self.targets)}"


_AXE_RUN = """async (tags) => {
  if (!window.axe) throw new Error("axe-core is not loaded in this page");
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact || "minor", help: v.help,
    targets: v.nodes.slice(0, 6).map((n) => n.target.join(" ")),
  }));
}"""


def axe(page: Any) -> list[Violation]:
    """axe-core's violations on the page as it is now (every impact)."""
    found = page.evaluate(_AXE_RUN, AXE_TAGS)
    return [Violation(v["rule"], v["impact"], v["help"], tuple(v["targets"])) for v in found]


def blocking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.blocking]


_LAYOUT = """({ minTarget, wholeScreen }) => {
  const found = [];
  const vw = document.documentElement.clientWidth;
  const vh = window.innerHeight;
  const name = (el) => {
    const text = (el.getAttribute("aria-label") || el.innerText || el.value || el.name || el.id || "").trim();
    const id = el.id ? "#" + el.id : "";
    return `${el.tagName.toLowerCase()}${id} "${text.replace(/\\s+/g, " ").slice(0, 40)}"`;
  };
  const scrollWidth = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  if (scrollWidth > vw + 1) found.push(`the page scrolls sideways: ${scrollWidth} px of content in ${vw} px`);
  if (wholeScreen) {
    const scrollHeight = document.documentElement.scrollHeight;
    if (scrollHeight > vh + 1) found.push(`the screen scrolls: ${scrollHeight} px of content in ${vh} px`);
  }
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
  );
  for (const el of controls) {
    if (el.closest("[hidden], [aria-hidden=true]") || el.classList.contains("wedge")) continue;
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    let box = el;
    const boxed = el.type === "checkbox" || el.type === "radio" || el.type === "file";
    if (boxed && el.closest("label")) box = el.closest("label");
    const r = box.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const across = `${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`;
    const down = `${Math.round(r.top)}..${Math.round(r.bottom)} of ${vh}`;
    if (r.left < -1 || r.right > vw + 1) found.push(`${name(el)} is outside the page's width (${across})`);
    if (wholeScreen && (r.top < -1 || r.bottom > vh + 1)) found.push(`${name(el)} is below the fold (${down})`);
    // Clipped by a box around it that hides its overflow.
    for (let p = box.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX === "visible" && s.overflowY === "visible") continue;
      const c = p.getBoundingClientRect();
      if (r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1) {
        const box = `${p.tagName.toLowerCase()}${p.id ? "#" + p.id : ""}.${[...p.classList].join(".")}`;
        found.push(`${name(el)} is cut off by ${box}`);
      }
      break;
    }
    // Text cut inside a button or a link styled as one.
    if ((el.tagName === "BUTTON" || el.classList.contains("button")) && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)}: its text is cut (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
    }
    // Targets: links in running text or in a table cell are exempt (WCAG 2.5.5 "inline").
    const inText = el.closest("p, li, td, dd, figcaption, h1, h2, h3, small") && !el.closest("nav, .tabs, .figures");
    const inline = el.tagName === "A" && !el.classList.contains("button") && inText;
    const svgLink = el.closest("svg");
    if (!inline && !svgLink && (r.width < minTarget - 0.5 || r.height < minTarget - 0.5)) {
      const size = `${Math.round(r.width)}x${Math.round(r.height)} px`;
      found.push(`${name(el)} is a small target: ${size} (at least ${minTarget})`);
    }
  }
  return found;
}"""


def layout(page: Any, *, min_target: int = MIN_TARGET, whole_screen: bool = False) -> list[str]:
    """Geometry problems of the page as it is now (see the module's docstring)."""
    return page.evaluate(_LAYOUT, {"minTarget": min_target, "wholeScreen": whole_screen})


def summary(violations: list[Violation]) -> str:
    """'serious 0, critical 0 (moderate 2, minor 1)' for the per-page report."""
    counts = dict.fromkeys(("critical", "serious", "moderate", "minor"), 0)
    for v in violations:
        counts[v.impact] = counts.get(v.impact, 0) + 1
    rules = ", ".join(sorted({v.rule for v in violations}))
    return (
        f"critical {counts['critical']}, serious {counts['serious']} "
        f"(moderate {counts['moderate']}, minor {counts['minor']}{': ' + rules if rules else ''})"
    )
