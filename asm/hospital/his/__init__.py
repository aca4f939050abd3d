"""Hospital information systems (issue 13): HL7 v2 ADT over MLLP, FHIR R4 Bundles and the insurance XML tables.

Every channel only translates: a message becomes the events of the hospital's batch (asm/hospital/events.py,
`EventInput`), applied by the hospital's rules on the filing core (asm/hospital/filing.py, asm/filing). What is
stated once for every channel lives in `matching` (who the person is, which bed or ward a location names) and
`inbox` (each message kept with its answer: idempotency, the operations page, replay, counters).
"""
