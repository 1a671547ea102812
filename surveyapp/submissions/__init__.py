"""What both channels (the QR form and the kiosk API) share to take a response:

- ``surveys``: which surveys are open at a service point, on a channel, on a local date;
- ``answers``: one validator for each kind of answer, and the whole-response check;
- ``store``: the one storage path, idempotent on the (survey, idempotency key) uniqueness.

The channels keep only what is theirs: the citizen form's fields, quotas and pages
(``citizen``), the kiosk's batch protocol and plausibility flags (``kiosk.ratings``).
"""
