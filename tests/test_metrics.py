from pipeline.metrics import corpus_wer, normalize, number_words, wer


def test_normalize_case_punctuation_numbers_titles():
    assert normalize("Mr. Quilter, go forward 10 meters!") == "mister quilter go forward ten meters"
    assert normalize("in 1813.") == "in eighteen thirteen"
    assert normalize("call 555-0142") == "call five hundred fifty five zero one four two"
    assert normalize("Dr. Ellen's 20 dollars") == "doctor ellens twenty dollars"
    assert number_words(1500) == "one thousand five hundred"


def test_wer():
    assert wer("go forward ten meters", "Go forward, 10 meters.") == 0.0
    assert wer("a b c d", "a x c d") == 0.25
    assert corpus_wer([("a b", "a b"), ("c d e f", "c d e")]) == 1 / 6
