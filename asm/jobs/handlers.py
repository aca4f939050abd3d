"""Every job handler, registered by importing its module; and the e-mail job."""

from __future__ import annotations

from asm import jobs, mail
from asm.jobs import reminders, retention  # noqa: F401  # their handlers register themselves
from asm.police import digest, reports  # noqa: F401  # the morning digest, the report and report-file jobs


@jobs.handler("mail", max_attempts=8, sensitive=True)
def send_mail(job: jobs.Job) -> None:
    """asm.mail.send; its MailError fails this attempt and the job is tried again later (back-off)."""
    a = job.args
    try:
        mail.send(a["to"], a["subject"], a["text"], html=a.get("html"))
    except ValueError as exc:
        raise jobs.JobFailed("not an e-mail address") from exc
