"""The contact-pressure partial that Account 360 includes renders the rows of ``contact_pressure``."""

from __future__ import annotations

from retain.web.render import make_templates

ROWS = [{"scope": "contact", "contact_id": "c1", "name": "Ann <script>", "cap": "emails_week", "channel": "email",
         "window_days": 7, "touches": 3, "max": 3, "share": 1.0, "at_cap": True, "held": 2},
        {"scope": "account", "contact_id": None, "name": "a1", "cap": "account_week", "channel": "any",
         "window_days": 7, "touches": 4, "max": 12, "share": 0.33, "at_cap": False, "held": 2}]


def test_pressure_partial_shows_each_row_and_escapes_names():
    env = make_templates().env
    html = env.get_template("_contact_pressure.html").render(pressure=ROWS)
    assert 'id="contact-pressure"' in html and "Ann &lt;script&gt;" in html and "<script>" not in html
    assert html.count("<tr") == 3 and 'class="down"' in html and "Whole account" in html
    assert "No contact caps apply." in env.get_template("_contact_pressure.html").render(pressure=[])
