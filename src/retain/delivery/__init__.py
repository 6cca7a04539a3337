"""Delivery: a transactional outbox (e-mail over SMTP, signed webhooks), its worker, and contact caps.

- :mod:`retain.delivery.outbox`: ``enqueue`` a message in the caller's transaction; customer-facing messages that
  would break a contact cap are held;
- :mod:`retain.delivery.worker`: claim, send, retry with backoff, dead letters (``retain deliver``, and a thread
  inside ``retain serve``);
- :mod:`retain.delivery.caps`: caps over rolling windows across teams, contact pressure, past breaches;
- :mod:`retain.delivery.notify`: alerts for critical CTAs and daily digests, written by ``retain act``.
"""
