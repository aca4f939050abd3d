"""Issue 16's "Done when", in headless Chromium on a phone-sized screen: a guesthouse registers with its owner's CCCD
QR, the commune's officer approves it, the owner invites a clerk, the clerk accepts and checks a guest in, and the
officer sees that guest; an officer of another commune never sees the registration. A hospital owner creates a
ward with rooms and beds and admits a patient into one. Every new page passes axe-core in Vietnamese and English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from asm.accounts.models import Role
from tests.conftest import CARD, PASSWORD, Factory
from tests.support import a11y
from tests.support.desk import CARD_2, use_fast_password_hashes

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page
Browser = sync_api.Browser

pytestmark = pytest.mark.browser

PHONE = a11y.SIZES["phone"]
OWNER_PASSWORD = "nha-nghi-hoa-sen-2026"
CLERK_PASSWORD = "le-tan-ca-toi-2026"
GUEST = "Trần Văn Nam"


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


class Phones:
    """One phone (a browser context of its own, 390×844) per person."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[object] = []
        self.findings: list[str] = []

    def open(self, locale: str = "vi-VN") -> Page:
        context = self.browser.new_context(base_url=self.base_url, viewport=PHONE, locale=locale)
        context.set_default_timeout(15_000)
        a11y.install_axe(context)
        self.contexts.append(context)
        return context.new_page()

    def check(self, page: Page, label: str) -> None:
        """axe-core (nothing serious or critical) and the geometry rules (44 px targets, nothing cut) on this page."""
        self.findings.extend(f"{label}: {v}" for v in a11y.blocking(a11y.axe(page)))
        self.findings.extend(f"{label}: {p}" for p in a11y.layout(page))

    def close(self) -> None:
        for context in self.contexts:
            context.close()  # type: ignore[attr-defined]


@pytest.fixture
def phones(browser: Browser, live_server: str) -> Iterator[Phones]:
    found = Phones(browser, live_server)
    yield found
    found.close()


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("form[action='/dang-xuat']")).to_be_attached()  # in the menu, folded on a phone


def open_menu(page: Page) -> None:
    """On a phone the site menu folds behind its button."""
    button = page.locator(".menu-button")
    if button.is_visible() and button.get_attribute("aria-expanded") == "false":
        button.click()


def test_a_guesthouse_joins_its_clerk_checks_a_guest_in_and_the_officer_sees_the_guest(
    app: Flask, factory: Factory, phones: Phones
) -> None:
    officer = factory.user(Role.OFFICER, commune="00004", username="ca.badinh")  # Phường Ba Đình, Hà Nội
    factory.user(Role.OFFICER, commune="00070", username="ca.hoankiem")  # Phường Hoàn Kiếm, Hà Nội

    # 1. The owner registers on their phone, from the login page.
    owner = phones.open()
    owner.goto("/dang-nhap")
    owner.get_by_role("link", name="Đăng ký cơ sở lưu trú mới").click()
    expect(owner.get_by_role("heading", name="Đăng ký cơ sở lưu trú")).to_be_visible()
    phones.check(owner, "register")
    owner.get_by_label("Tên cơ sở").fill("Nhà nghỉ Hoa Sen")
    owner.get_by_label("Loại cơ sở").select_option("guesthouse")
    owner.get_by_label("Địa chỉ (số nhà, đường, thôn/tổ)").fill("12 Phố Đội Cấn")
    owner.get_by_label("Tỉnh/thành phố").select_option(label="Thành phố Hà Nội")
    owner.get_by_label("Tìm xã/phường").fill("ba đình")
    commune = owner.get_by_label("Xã/phường (Công an nhận thông báo)")
    expect(commune.locator("option[value='00004']")).to_be_attached()
    expect(commune.locator("option")).to_have_count(2)  # the prompt and Ba Đình
    commune.select_option("00004")
    owner.get_by_label("Số giấy phép kinh doanh / đăng ký hộ kinh doanh").fill("01A-8012345")
    owner.get_by_label("Điện thoại").fill("0912345678")
    owner.get_by_label("E-mail").fill("hoasen@example.vn")
    owner.get_by_label("Số phòng (cơ sở khám chữa bệnh: số giường)").fill("8")
    qr = owner.get_by_label("Mã QR trên căn cước công dân của chủ cơ sở")
    qr.fill(CARD)  # pasted: the QR's text read by the phone's own reader app
    qr.blur()
    expect(owner.locator("#owner-name")).to_contain_text("Nguyễn Thị Hoa")
    owner.get_by_label("Tên đăng nhập").fill("hoasen")
    owner.get_by_label("Mật khẩu", exact=True).fill(OWNER_PASSWORD)
    owner.get_by_label("Nhập lại mật khẩu").fill(OWNER_PASSWORD)
    owner.get_by_role("button", name="Gửi đăng ký").click()
    expect(owner.locator("#flashes")).to_contain_text("Đã gửi đăng ký")
    log_in(owner, "hoasen", OWNER_PASSWORD)
    expect(owner.get_by_role("heading", name="Hồ sơ đăng ký")).to_be_visible()
    expect(owner.locator("[id^=status-]")).to_have_text("Chờ Công an duyệt")
    phones.check(owner, "registration state")
    code = owner.locator("[id^=status-]").get_attribute("id").removeprefix("status-")  # type: ignore[union-attr]

    # 2. An officer of another commune never sees it.
    other = phones.open()
    log_in(other, "ca.hoankiem")
    other.goto("/cong-an/dang-ky/")
    expect(other.locator("#registrations")).not_to_contain_text("Hoa Sen")
    other.goto("/co-so/")
    expect(other.locator("main")).not_to_contain_text("Hoa Sen")
    assert other.goto(f"/cong-an/dang-ky/{code}").status == 404  # type: ignore[union-attr]

    # 3. The commune's officer approves it from the dashboard.
    police = phones.open()
    log_in(police, officer.username)
    police.get_by_role("link", name="1 cơ sở đăng ký đang chờ duyệt").click()
    phones.check(police, "registrations")
    police.get_by_role("link", name="Nhà nghỉ Hoa Sen").click()
    expect(police.locator("main")).to_contain_text("034303011829")
    phones.check(police, "registration")
    police.get_by_role("button", name="Duyệt").click()
    expect(police.locator("#status")).to_have_text("Đã duyệt")

    # 4. The owner invites a clerk.
    owner.goto("/")
    expect(owner.get_by_role("heading", name=re.compile("Nhà nghỉ Hoa Sen"))).to_be_visible()
    owner.get_by_role("link", name="Nhân viên").click()
    phones.check(owner, "staff")
    owner.get_by_label("Mời ai (ghi chú)").fill("Lễ tân ca tối")
    owner.get_by_role("button", name="Tạo liên kết mời").click()
    link = owner.locator("#invite-link").input_value()
    assert re.search(r"/moi/[\w-]{40,}$", link), link

    # 5. The clerk accepts on their own phone, logs in and checks a guest in.
    clerk = phones.open()
    clerk.goto(link)
    phones.check(clerk, "accept invitation")
    clerk.get_by_label("Họ và tên").fill("Lê Văn Tân")
    clerk.get_by_label("Tên đăng nhập").fill("letan.hoasen")
    clerk.get_by_label("Mật khẩu", exact=True).fill(CLERK_PASSWORD)
    clerk.get_by_label("Nhập lại mật khẩu").fill(CLERK_PASSWORD)
    clerk.get_by_role("button", name="Tạo tài khoản").click()
    expect(clerk.locator("#flashes")).to_contain_text("Đã tạo tài khoản")
    log_in(clerk, "letan.hoasen", CLERK_PASSWORD)
    clerk.get_by_role("link", name="Nhận khách").click()
    scan = clerk.locator("#scan-text")
    scan.click()
    clerk.keyboard.type(CARD_2)
    clerk.keyboard.press("Enter")
    expect(clerk.locator('#guests input[name$="-full_name"]')).to_have_value(GUEST)
    clerk.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(clerk).to_have_url(re.compile(rf"/co-so/{code}/luu-tru/\d+$"))
    expect(clerk.locator("#flashes")).to_contain_text("LT-")

    # 6. The officer sees that guest; the owner sees who did it.
    police.goto(f"/co-so/{code}/")
    expect(police.locator("main")).to_contain_text(GUEST)
    owner.goto(f"/co-so/{code}/nhan-vien/")
    expect(owner.locator("#activity")).to_contain_text("Lê Văn Tân")
    expect(owner.locator("#staff")).to_contain_text("letan.hoasen")
    # ...and never the other commune's officer.
    assert other.goto(f"/co-so/{code}/").status == 403  # type: ignore[union-attr]

    assert not phones.findings, "\n".join(phones.findings)


def test_a_hospital_owner_creates_a_ward_with_beds_and_admits_a_patient(
    app: Flask, factory: Factory, phones: Phones
) -> None:
    est = factory.establishment(type="hospital", rooms=(), name="Bệnh viện Hoa Sen", code="BV-HOASEN")
    factory.user(Role.OWNER, establishment=est, username="chu.bvhoasen")
    owner = phones.open()
    log_in(owner, "chu.bvhoasen")
    owner.goto(f"/co-so/{est.code}/phong-buong/")
    phones.check(owner, "rooms (hospital)")
    owner.get_by_label("Mã khoa").fill("NOI")
    owner.get_by_label("Tên khoa").fill("Khoa Nội")
    owner.get_by_label("Loại giường").select_option("standard")
    owner.get_by_label("Phòng và giường (mỗi dòng: tên phòng, rồi tên các giường)").fill(
        "P101 NOI-101-1 NOI-101-2\nP102 NOI-102-1"
    )
    owner.get_by_role("button", name="Tạo khoa").click()
    expect(owner.locator("#flashes")).to_contain_text("Đã tạo khoa Khoa Nội với 3 giường")
    expect(owner.locator("#wards")).to_contain_text("P102/NOI-102-1")
    # The admission, on the hospital's own page, into one of the new beds.
    owner.goto(f"/benh-vien/{est.code}/nhap-vien")
    owner.locator("#scan-text").click()
    owner.keyboard.type(CARD)
    owner.keyboard.press("Enter")
    expect(owner.locator('#guests input[name$="-full_name"]')).to_have_value("Nguyễn Thị Hoa")
    owner.locator("#admit-form select[name=bed_id]").select_option(label="NOI-102-1 (P102)")
    owner.get_by_role("button", name="Nhập viện và khai báo lưu trú").click()
    expect(owner).to_have_url(re.compile(rf"/benh-vien/{est.code}/benh-nhan/\d+$"))
    expect(owner.locator("main")).to_contain_text("NOI-102-1")
    assert not phones.findings, "\n".join(phones.findings)


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_the_public_joining_pages_pass_axe_in_both_languages(
    app: Flask, factory: Factory, phones: Phones, locale: str
) -> None:
    """The pages only a journey reaches (an invitation's and a reset's one-time links; tests/support/site.py
    JOURNEYS), and the public ones, in Vietnamese and in English."""
    from flask import url_for

    from asm.accounts import joining
    from asm.clock import utcnow
    from asm.extensions import db

    est = factory.establishment(name="Khách sạn Sen Vàng")
    owner = factory.user(Role.OWNER, establishment=est)
    owner.email = "sen@example.vn"
    _invitation, token = joining.invite(est, role="clerk", note="", email="", by=owner, now=utcnow(), days=7)
    reset_token = joining.new_reset(owner, now=utcnow(), minutes=60)
    db.session.commit()
    with app.test_request_context():
        urls = [
            url_for("joining.register"),
            url_for("joining.forgot"),
            url_for("joining.accept", token=token),
            url_for("joining.reset", token=reset_token),
            url_for("joining.accept", token="spent"),
            url_for("joining.reset", token="spent"),
        ]
    page = phones.open(locale)
    if locale.startswith("en"):
        page.goto("/dang-nhap")
        open_menu(page)
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    for url in urls:
        page.goto(url)
        phones.check(page, f"{url} ({locale})")
    page.goto("/dang-ky")
    page.get_by_role("button").last.click()  # submit the empty form: the browser's own checks stop it
    assert not phones.findings, "\n".join(phones.findings)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_new_signed_in_pages_pass_axe_in_both_languages(
    app: Flask, factory: Factory, phones: Phones, lang: str
) -> None:
    """The owner's, the officer's and the platform admin's new pages, on a phone, in Vietnamese and English (the
    English ones show no Vietnamese heading)."""
    from asm.establishments.models import Status
    from asm.extensions import db

    est = factory.establishment(commune="00004", name="Nhà nghỉ Hoa Sen")
    hospital = factory.establishment(commune="00004", type="hospital", rooms=(), name="Bệnh viện Sen")
    pending = factory.establishment(commune="00004", name="Nhà nghỉ Mới", code="01-MOI")
    pending.status = Status.CHANGES_REQUESTED
    pending.status_reason = "Thiếu số nhà"
    factory.user(Role.OWNER, establishment=pending, username="chu.moi")
    factory.user(Role.OWNER, establishment=est, username="chu.hoasen")
    factory.user(Role.OWNER, establishment=hospital, username="chu.bvsen")
    factory.user(Role.OFFICER, commune="00004", username="ca.badinh")
    factory.user(Role.ADMIN, username="quantri")
    factory.token(est)
    db.session.commit()
    visits = {
        "chu.moi": ["/dang-ky/ho-so"],
        "chu.hoasen": [f"/co-so/{est.code}/nhan-vien/", f"/co-so/{est.code}/phong-buong/"],
        "chu.bvsen": [f"/co-so/{hospital.code}/phong-buong/"],
        "ca.badinh": ["/cong-an/dang-ky/", "/cong-an/dang-ky/01-MOI"],
        "quantri": ["/quan-tri/co-so/", f"/quan-tri/co-so/{est.code}", "/quan-tri/cong-an/", "/quan-tri/ma-api/"],
    }
    for username, urls in visits.items():
        page = phones.open()
        log_in(page, username)
        for url in urls:
            page.goto(f"{url}?lang={lang}")
            expect(page.locator("html")).to_have_attribute("lang", lang)
            if lang == "en":  # the page's own words are English (place names stay Vietnamese)
                heading = page.locator("h1").first.inner_text()
                assert not re.search(r"Đăng ký|Nhân viên|Phòng|Hồ sơ|Cơ sở|Công an|Mã API", heading), heading
            phones.check(page, f"{url} ({username}, {lang})")
    assert not phones.findings, "\n".join(phones.findings)
