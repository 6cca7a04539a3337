"""Conversation intelligence for sales calls, in English and Chinese.

Small modules by concept: ``importers`` (transcripts in), ``redact`` (PII out), ``text`` and ``questions``
(language handling), ``metrics`` (per-call behaviour), ``tracker_spec``/``trackers`` (what was said),
``compliance``/``sop`` (QA), ``events`` (key events and callback dates), ``search``, and the action layer:
``outcomes`` (behaviour vs win rate), ``cadence`` (follow-ups), ``leads`` (lead recovery), ``tags`` (CRM tags).
"""
