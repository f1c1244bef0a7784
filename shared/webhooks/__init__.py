"""Event subscriptions (webhooks), the same in every service that has events.

Each service keeps its own outbox, subscriptions and deliveries tables (``tables``), writes
an event with ``outbox.emit`` in the transaction of the change it reports, and runs the
delivery worker (``worker``) in its lifespan. Deliveries are signed per the Standard
Webhooks specification (``signing``) and sent only to addresses the SSRF guard allows
(``guard``).
"""
