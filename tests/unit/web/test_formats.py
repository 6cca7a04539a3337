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
