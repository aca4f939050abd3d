"""Property-based fuzz of API v1 against its own generated OpenAPI document (schemathesis, a live server).

Every operation, every phase schemathesis has (examples, coverage: boundaries and negative cases, fuzzing,
stateful: created stays followed through the document's links), every check. Bounded and deterministic (a fixed
seed, derandomized Hypothesis), so CI sees the same requests each run; a failure prints its curl reproduction.
It passes only with 0 server errors and 0 answers that break the document. The app is served on 127.0.0.1 in one
thread (schemathesis's in-process WSGI transport fails on its own `ignored_auth` probe: it hands werkzeug a
`max_redirects` argument); a run is about 2,300 requests and takes about a minute.

Three settings say what the document cannot:
- `positive_data_acceptance` also expects 422: a body can fit the schema and still break a rule that needs more
  than a schema (an ID number's check digits against the birth date, an arrival in the future, a room that does
  not exist here, a stay already checked out).
- `positive_data_acceptance` on `/id-cards/decode` also expects 413 and 415: a schema says "binary", not "a
  JPEG, PNG or WebP under 12 megapixels that holds a QR code".
- `positive_data_acceptance` on `/hospital/fhir` also expects 400: the document gives a Bundle's outline, not the
  whole of FHIR R4 (the resources' own schemas are the FHIR specification's; the endpoint validates them with
  fhir.resources and answers an OperationOutcome).
- `negative_data_rejection` on `/hospital/events` also expects 200: a malformed event in a batch is refused in
  its own result (`event_invalid`) while the rest of the batch is applied, by design (docs/HOSPITAL.md).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.engine import events

from asm.api.schemas import CheckInBody
from asm.clock import utcnow
from asm.common import Actor
from asm.extensions import db
from asm.stays import services
from tests.conftest import Factory
from tests.support.hospital import CARER_CARDS, make_hospital
from tests.support.live import live_server

SEED = 20261123
MAX_EXAMPLES = 100  # per operation and phase; with no time limit each phase runs once: the same run every time


def fuzz_config(secret: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {secret}"},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}
            },
            "operations": [
                {
                    "include-path": "/id-cards/decode",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "413", "415", "422", "429"]}
                    },
                },
                {
                    "include-path": "/hospital/fhir",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429"]
                        }
                    },
                },
                {
                    "include-path": "/hospital/events",
                    "checks": {
                        "negative_data_rejection": {
                            "expected-statuses": [
                                "200",
                                "400",
                                "401",
                                "403",
                                "404",
                                "405",
                                "409",
                                "413",
                                "415",
                                "422",
                                "429",
                            ]
                        }
                    },
                },
            ],
        }
    )


def seed_stays(factory: Factory) -> tuple[str, Any]:
    """A hospital (so the events operation has wards and beds) with a few stays, ids from 1: the fuzz's small
    ids and the stateful phase's links reach real stays."""
    hospital = make_hospital(factory)
    est = hospital.est
    now = utcnow()
    for text in CARER_CARDS[1:]:  # not the document's example card: its example check-in must succeed
        body = CheckInBody.model_validate({"guests": [{"qr": text}], "reason": "Điều trị"})
        services.check_in(est, body.to_input(now), actor=Actor.system("fuzz"), now=now)
    db.session.commit()
    return factory.token(est, name="fuzz"), est


def run(app: Flask, secret: str) -> tuple[list[str], Counter[int], int]:
    with live_server(app, threaded=False) as base:
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json", config=fuzz_config(secret))
        return collect(schema)


def collect(schema: Any) -> tuple[list[str], Counter[int], int]:
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    requests = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                requests += 1
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    problems.append(
                        f"{recorder.label} [{check.name}] {failure.title}: {failure.message}\n"
                        f"    {check.failure_info.code_sample}"
                    )
        elif isinstance(event, events.NonFatalError):
            problems.append(f"error in {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            problems.append(f"fatal: {event.exception!r}")
    return problems, statuses, requests


@pytest.mark.timeout(600)
@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # Hypothesis on the 1,000-event batches
def test_the_api_keeps_its_document_under_fuzz(app: Flask, factory: Factory) -> None:
    secret, _est = seed_stays(factory)
    # as in production, an exception is the app's own 500 answer (the checks see it); limits out of the run's way
    app.config.update(
        PROPAGATE_EXCEPTIONS=False, RATELIMIT_API="1000000 per minute", RATELIMIT_SCAN="1000000 per minute"
    )
    started = time.monotonic()
    problems, statuses, requests = run(app, secret)
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {requests} requests in {elapsed:.0f} s; statuses {dict(sorted(statuses.items()))}")
    assert requests > 500, "the fuzz hardly ran"
    assert not [s for s in statuses if s >= 500], f"server errors: {statuses}"
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert {200, 201, 404, 422} <= set(statuses), f"the fuzz did not reach the interesting answers: {statuses}"
