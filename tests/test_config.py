import pytest

from pipeline.config import load_settings
from pipeline.errors import PipelineError


def test_base_config_loads_with_documented_defaults():
    s = load_settings()
    assert s.asr.engine == "faster_whisper"
    assert s.asr.model == "base"
    assert s.asr.beam_size == 5 and s.asr.language == "en"
    assert s.asr.vad_filter and s.asr.word_timestamps
    assert s.asr.condition_on_previous_text is False
    assert s.paths.work.is_absolute()


def test_unknown_engine_lists_the_valid_ones():
    with pytest.raises(PipelineError) as e:
        load_settings(overrides={"asr": {"engine": "x"}})
    msg = str(e.value)
    assert "Unknown asr.engine 'x'. Available: faster_whisper, openai_whisper" in msg
    assert "\n" not in msg


def test_misspelled_key_is_named(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("asr:\n  beamsize: 3\n")
    with pytest.raises(PipelineError, match=r"asr.beamsize: unknown setting"):
        load_settings(p)


def test_invalid_yaml_names_the_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("asr:\n  model: [base\n")
    with pytest.raises(PipelineError, match=r"line \d+ is not valid YAML"):
        load_settings(p)


def test_extra_file_overrides_key_by_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("asr:\n  model: tiny.en\npaths:\n  work: /tmp/somewhere\n")
    s = load_settings(p)
    assert s.asr.model == "tiny.en"
    assert s.asr.beam_size == 5  # untouched keys keep the base value
    assert str(s.paths.work) == "/tmp/somewhere"
