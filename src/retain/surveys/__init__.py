"""Surveys Retain runs itself: programmes, throttling, signed links, answers into data and action, analytics.

``spec`` (programmes YAML), ``touchpoints`` (the moments that trigger a survey, as Ibis), ``plan`` (who is asked
today and why others are held back, in the engine), ``links`` (signed single-use links), ``send`` (invitations
and reminders through the outbox), ``answers`` (an answer into the app DB, the warehouse and a CTA),
``analytics`` (rates, trends, comments) and ``texts`` (English and Chinese wording).
"""
