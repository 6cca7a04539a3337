from retain.conversations.questions import count_questions, is_question_sentence
from retain.conversations.redact import cn_id_valid, find_pii, luhn_valid, redact, redact_many
from retain.conversations.text import detect_language, normalize, stem, tokens, word_count


def test_normalize_folds_case_and_width():
    assert normalize("ＰＲＩＣＥ？") == "price?"
    assert normalize("Straße") == "strasse"


def test_stem_groups_word_forms():
    assert {stem(w) for w in ("price", "prices", "priced", "pricing")} == {"pric"}
    assert stem("companies") == stem("company")
    assert stem("planning") == stem("plan")
    assert stem("prick") != stem("price")
    assert stem("预算") == "预算"


def test_tokens_cut_chinese_with_jieba_and_keep_english_words():
    assert tokens("我们的预算不够，PRICE是多少？") == ["我们", "的", "预算", "不够", "price", "是", "多少"]


def test_word_count_counts_chinese_characters():
    assert word_count("hello there") == 2
    assert word_count("价格多少") == 4
    assert detect_language("价格是多少") == "zh"
    assert detect_language("what is the price") == "en"


def test_checksums():
    assert cn_id_valid("11010519491231002X")
    assert not cn_id_valid("110105194912310021")
    assert luhn_valid("4111 1111 1111 1111")
    assert not luhn_valid("4111 1111 1111 1112")


def test_redaction_spans_and_labels():
    text = "mail a@b.io or call 13912345678"
    found = find_pii(text)
    assert [(f.kind, text[f.start:f.end]) for f in found] == [("EMAIL", "a@b.io"), ("PHONE", "13912345678")]
    assert redact(text) == "mail [EMAIL] or call [PHONE]"
    assert redact_many(["no digits here", text]) == ["no digits here", "mail [EMAIL] or call [PHONE]"]


def test_questions_count_sentences():
    assert count_questions("Hi there. How are you? What do you use today?") == 2
    assert is_question_sentence("你们有没有预算")
    assert not is_question_sentence("我们什么都可以谈")
