"""The council's language: every model is asked to answer in it, or in the topic's language."""

from __future__ import annotations

import pytest

from bot.config import parse_config
from bot.council.languages import html_language, language_code, prompt_language
from bot.council.spec import build_spec
from bot.errors import ConfigError, UserFacingError
from tests.council.conftest import NAMES, make_config

SYNTHESIS = (
    '{"consensus": ["Города выиграют"], "disagreements": [], "open_questions": [], '
    '"cautions": ["Риск"], "verdict": "Да."}'
)


def _every_request(council):
    return [request for name in NAMES for request in council.requests(name)]


async def test_a_russian_council_asks_members_chair_and_summariser_to_answer_in_russian(council):
    council.script_all(reply="Ответ.")
    run = await council.open(preset="chaired", rounds=1, language="ru")
    await run.run()

    requests = _every_request(council)
    assert requests
    for request in requests:
        assert "Answer in Russian" in request.system_text()
    chair, *_, synthesis = council.requests("Claude")
    assert "in Russian." in chair.last_user_text()
    assert "write every item and the verdict in Russian" in synthesis.last_user_text()
    member = council.requests("Gemini")[0].last_user_text()
    assert "write the stance words, the claim and the reason in Russian" in member
    assert run.session.language == "ru"


async def test_a_council_with_no_language_asks_for_the_language_of_its_cyrillic_topic(council):
    council.script_all(reply="Ответ.")
    run = await council.open("Стоит ли городам запретить машины?", preset="chaired", rounds=1)
    await run.run()

    topic_language = "the language the council's topic is written in"
    for request in _every_request(council):
        assert "Answer in the language the council's topic is written in" in request.system_text()
        assert "Answer in English" not in request.system_text()
    chair, *_, synthesis = council.requests("Claude")
    assert f"in {topic_language}." in chair.last_user_text()
    assert f"write every item and the verdict in {topic_language}" in synthesis.last_user_text()
    assert run.session.language == ""


async def test_a_review_council_in_russian_asks_for_fixed_labels_and_russian_reasons(council):
    council.script_all(reply='{"ranking": ["Response A", "Response B", "Response C"]}')
    run = await council.open(format="review", rounds=1, language="Russian")
    await run.run()

    review = council.requests("Gemini")[1].last_user_text()
    assert "Peer review" in review
    assert "write the reasons in Russian" in review
    assert run.ranking  # the English labels are still read back


def test_a_preset_language_is_used_unless_the_host_picks_another(fake_llm):
    raw = make_config(fake_llm).model_dump(mode="json")
    raw["presets"]["default"]["language"] = "ru"
    config = type(make_config(fake_llm)).model_validate(raw)

    assert build_spec(config, "Topic").language == "ru"
    assert build_spec(config, "Topic", language="de").language == "de"


def test_a_preset_with_an_unknown_language_is_a_configuration_problem(fake_llm):
    raw = make_config(fake_llm).model_dump(mode="json")
    raw["presets"]["default"]["language"] = "Klingon"

    with pytest.raises(ConfigError, match=r"presets\.default\.language.*Klingon"):
        parse_config(raw, "council.toml", {})


def test_an_unknown_language_is_refused_with_the_codes_to_use():
    with pytest.raises(UserFacingError, match="ru"):
        language_code("Klingon")


@pytest.mark.parametrize(
    ("given", "code", "name"),
    [
        ("ru", "ru", "Russian"),
        ("RU-ru", "ru", "Russian"),
        ("русский", "ru", "Russian"),
        ("pt-BR", "pt-BR", "Brazilian Portuguese"),
        ("en", "en-US", "English"),
    ],
)
def test_a_language_is_found_by_code_region_or_name(given, code, name):
    assert language_code(given) == code
    assert prompt_language(code) == name


def test_an_older_sessions_stored_english_still_reads_as_english():
    assert prompt_language("English") == "English"
    assert prompt_language("") is None


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("ru", ("ru", "ltr")),
        ("ar", ("ar", "rtl")),
        ("he", ("he", "rtl")),
        ("fa", ("fa", "rtl")),
        ("ur", ("ur", "rtl")),
        ("", ("und", "auto")),
    ],
)
def test_html_lang_and_dir_follow_the_language(stored, expected):
    assert html_language(stored) == expected
