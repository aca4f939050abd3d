"""The operations page for the hospital's IT staff (issue 13): each HIS channel's counters and last messages, the
errors with the raw message, a replay button, and the upload of insurance XML files. The hospital's own staff
only. Routes on the hospital blueprint (asm/hospital/views.py imports this module at its end)."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from asm.clock import utcnow
from asm.extensions import db
from asm.hospital.his import inbox, receive, xml130
from asm.hospital.his.mllp import Filer
from asm.hospital.models import HisMessage, MessageStatus
from asm.hospital.views import bp, hospital_for
from asm.stays.views import actor
from asm.web.access import STAFF, roles
from asm.web.htmx import redirect_to

CHANNEL_NAMES = {"hl7": "HL7 v2 (MLLP)", "fhir": "FHIR R4", "xml": "XML 130 (BHYT)"}


@bp.route("/tich-hop")
@roles(*STAFF)
def his(code: str) -> str:
    est = hospital_for(code, write=True)
    channels = [
        {
            "code": channel,
            "name": CHANNEL_NAMES[channel],
            "counters": counters,
            "messages": inbox.last_messages(est.id, channel, limit=20),
            "errors": inbox.last_messages(est.id, channel, limit=20, errors_only=True),
        }
        for channel, counters in inbox.counters(est.id).items()
    ]
    return render_template("hospital/his.html", est=est, channels=channels, can_write=True, active="his")


@bp.route("/tich-hop/<int:message_id>/xu-ly-lai", methods=["POST"])
@roles(*STAFF)
def his_replay(code: str, message_id: int) -> Response:
    """File a refused message again, as received (after the cause was fixed: a bed added, an admission sent)."""
    est = hospital_for(code, write=True)
    message = db.session.get(HisMessage, message_id)
    if message is None or message.establishment_id != est.id:
        from flask import abort

        abort(404)
    now = utcnow()
    if message.status in (MessageStatus.APPLIED, MessageStatus.IGNORED):
        flash(_("Tin này đã được xử lý; không cần xử lý lại."), "info")
        return redirect_to(url_for("hospital.his", code=est.code))
    channel, raw = message.channel, message.raw
    if channel == "hl7":
        Filer(est.code).file([raw.encode("utf-8")])
    elif channel == "fhir":
        receive.receive_fhir(est, raw.encode("utf-8"), actor=actor(), now=now)
    else:
        receive.file_records(est, [xml130.record_from_raw(raw)], actor=actor(), now=now)
    db.session.commit()
    db.session.refresh(message)
    if message.status == MessageStatus.APPLIED:
        flash(_("Đã xử lý lại: tin đã được ghi nhận."), "success")
    else:
        flash(
            _("Xử lý lại vẫn bị từ chối: %(error)s", error=message.error_message or message.error_code or ""), "error"
        )
    return redirect_to(url_for("hospital.his", code=est.code))


@bp.route("/tich-hop/xml", methods=["POST"])
@roles(*STAFF)
def his_upload(code: str) -> Response:
    """Insurance XML files uploaded by hand: the same import as `flask hospital import-xml`."""
    est = hospital_for(code, write=True)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        flash(_("Chọn ít nhất một tệp XML."), "error")
        return redirect_to(url_for("hospital.his", code=est.code))
    for upload in files:
        try:
            outcomes = receive.receive_xml(est, upload.read(), actor=actor(), now=utcnow())
        except xml130.XmlInvalid as exc:
            db.session.rollback()
            flash(_("%(file)s: không đọc được: %(error)s", file=upload.filename, error=exc.message), "error")
            continue
        db.session.commit()
        counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("applied", "duplicate", "ignored", "refused")}
        flash(
            _(
                "%(file)s: %(applied)s hồ sơ ghi nhận, %(duplicate)s đã có, %(ignored)s không phải nội trú, "
                "%(refused)s bị từ chối.",
                file=upload.filename,
                **counts,
            ),
            "error" if counts["refused"] else "success",
        )
    return redirect_to(url_for("hospital.his", code=est.code))
