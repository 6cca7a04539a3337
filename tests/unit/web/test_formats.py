from retain.web import formats


def test_numbers_and_missing_values():
    assert (formats.money(1234567.4), formats.money(None)) == ("1,234,567", "–")
    assert (formats.num(3.14159), formats.num(3.14159, "{:+.2f}"), formats.num(None)) == ("3.1", "+3.14", "–")
    assert (formats.pct(0.256), formats.pct(None)) == ("26%", "–")


def test_deltas_and_grades_are_html_with_escaped_values():
    assert str(formats.delta(2.04)) == '<span class="up">+2.0</span>'
    assert str(formats.delta(-0.5)) == '<span class="down">-0.5</span>'
    assert (formats.delta(0.0), formats.delta(None)) == ("0.0", "–")
    assert str(formats.grade("Red")) == '<span class="grade g-red">Red</span>'
    assert str(formats.grade('<b>"x"</b>')) == ('<span class="grade g-&lt;b&gt;&#34;x&#34;&lt;/b&gt;">'
                                                '&lt;b&gt;&#34;x&#34;&lt;/b&gt;</span>')
    assert formats.grade(None) == "–"


def test_negative_zero_is_never_printed():
    assert (formats.num(-0.04), formats.num(-0.0), formats.num(-0.001, "{:+.2f}")) == ("0.0", "0.0", "+0.00")
    assert formats.num(-0.06) == "-0.1"
    assert (formats.delta(-0.04), formats.delta(-0.0), formats.delta(0.04)) == ("0.0", "0.0", "0.0")
    assert formats.pct(-0.001) == "0%" and formats.money(-0.3) == "0"


def test_churn_is_styled_by_value_and_names_its_window():
    assert 'class="risk-low"' in str(formats.churn(0.0)) and ">0%<" in str(formats.churn(0.0))
    assert 'class="risk-watch"' in str(formats.churn(0.25))
    high = str(formats.churn(0.72))
    assert 'class="risk-high"' in high and "within 90 days" in high and formats.churn(None) == "–"


def test_money_carries_its_currency_and_dates_are_iso():
    import datetime as dt

    assert formats.money(1234.5, "EUR") == "1,234 EUR" and formats.money(None, "EUR") == "–"
    assert formats.day(dt.date(2026, 3, 1)) == "2026-03-01" and formats.day("2026-03-01T10:00:00") == "2026-03-01"
    assert formats.day(None) == "–"


def test_reasons_are_coloured_by_direction_and_escaped():
    risk = str(formats.reason({"phrase": "3 tickets still open", "direction": "raises"}))
    assert risk == '<li class="reason raises" title="raises risk">3 tickets still open</li>'
    assert 'class="reason lowers"' in str(formats.reason({"phrase": "customer for 2.4 years", "direction": "lowers"}))
    assert str(formats.reason("<b>x</b>")) == '<li class="reason">&lt;b&gt;x&lt;/b&gt;</li>'


def test_score_notes_mark_caps_and_defaults_with_the_note_as_title():
    from retain.web.formats import score_note

    assert str(score_note("capped at 40: champion left (30 d)")) == (
        '<abbr class="score-note capped" title="capped at 40: champion left (30 d)">capped</abbr>')
    assert 'class="score-note default"' in str(score_note("default: no data"))
    assert score_note(None) == "" and score_note("") == ""
    assert "&lt;b&gt;" in str(score_note("capped <b>"))


def test_money_totals_name_their_currency_or_say_they_mix():
    from retain.web.formats import money

    assert money(1234.4, "EUR") == "1,234 EUR"
    assert money(1234.4, "mixed currencies") == "1,234 (mixed currencies)"
