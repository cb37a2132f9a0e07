"""Question sets a server uploads, challenges on them, and predictions that outlive a restart,
through the fake Discord."""

from __future__ import annotations

import json

from bot.council.challenge import Question
from bot.council.challenge_scores import QuestionResult
from bot.council.models import GuildSettings
from bot.discord_ui import challenges as challenge_desk
from bot.discord_ui.challenges import predict_custom_id
from tests.council.conftest import NAMES
from tests.discord_bot.test_challenge import _message
from tests.fakediscord import Perm, Upload

CSV_SET = (
    "question,answer,choices\n"
    "Capital of Norway?,Oslo,Bergen|Oslo|Tromsø\n"
    "Largest planet?,C,Mars|Venus|Jupiter\n"
    '"1,000 + 1?",1001,\n'
)
JSON_SET = [
    {"question": "2+2?", "answer": 4},
    {"question": "Red planet?", "answer": "Mars", "choices": ["Venus", "Mars"]},
]


def _admin(harness):
    return harness.driver.create_member(harness.world.guild, "admin", permissions=Perm.MANAGE_GUILD)


async def _upload(harness, user, filename: str, data: bytes, name: str):
    world, driver = harness.world, harness.driver
    upload = await driver.slash(
        user,
        world.general,
        "council-admin challenge-set upload",
        file=Upload(
            filename, data, "text/csv" if filename.endswith(".csv") else "application/json"
        ),
        name=name,
    )
    reply = await upload.wait_response()
    assert reply.is_ephemeral
    return reply.content


async def test_an_admin_uploads_a_csv_and_a_json_set_and_lists_and_removes_them(harness):
    admin, world = _admin(harness), harness.world
    said = await _upload(harness, admin, "trivia.csv", CSV_SET.encode(), "Trivia")
    assert said == (
        "Saved the question set **trivia**: 3 questions, 2 with choices. "
        "Start it with `/council challenge set:trivia`."
    )
    said = await _upload(harness, admin, "sums.json", json.dumps(JSON_SET).encode(), "sums")
    assert said.startswith("Saved the question set **sums**: 2 questions, 1 with choices.")
    assert await harness.store.challenge_set_questions(world.guild.id, "trivia") == (
        Question("Capital of Norway?", "B", ("Bergen", "Oslo", "Tromsø")),
        Question("Largest planet?", "C", ("Mars", "Venus", "Jupiter")),
        Question("1,000 + 1?", "1001"),
    )
    said = await _upload(harness, admin, "sums.json", json.dumps(JSON_SET[:1]).encode(), "sums")
    assert said == "Replaced the question set **sums**: now 1 question, 0 with choices."

    listing = await harness.driver.slash(admin, world.general, "council-admin challenge-set list")
    lines = (await listing.wait_response()).content.splitlines()
    assert lines[0] == "**Question sets** (besides the built-in arithmetic):"
    assert lines[1].startswith(f"- **sums**: 1 question, uploaded by <@{admin.id}> <t:")
    assert lines[2].startswith(f"- **trivia**: 3 questions, uploaded by <@{admin.id}> <t:")
    suggested = await harness.driver.autocomplete(
        world.host, world.general, "council challenge", "set", "tri"
    )
    assert suggested == [("trivia", "trivia")]
    suggested = await harness.driver.autocomplete(
        world.host, world.general, "council challenge", "set", ""
    )
    assert [value for _, value in suggested] == ["arithmetic", "sums", "trivia"]

    removed = await harness.driver.slash(
        admin, world.general, "council-admin challenge-set remove", name="sums"
    )
    assert (await removed.wait_response()).content == "Removed the question set **sums**."
    actions = [e.action for e in await harness.store.audit_log(world.guild.id)]
    assert actions == [
        "challenge.remove",
        "challenge.upload",
        "challenge.upload",
        "challenge.upload",
    ]


async def test_a_bad_upload_is_refused_in_one_line_and_nothing_is_kept(harness):
    admin, world = _admin(harness), harness.world
    bad = "question,answer,choices\nok?,1,\nWhich?,   ,a|b\nfine?,2,\n"
    said = await _upload(harness, admin, "bad.csv", bad.encode(), "bad")
    assert said == "line 3: answer is empty."
    said = await _upload(harness, admin, "bad.json", b'[{"question": "q", "answer": 1}, 7]', "x")
    assert said == "question 2: expected an object with question and answer."
    said = await _upload(harness, admin, "big.csv", b"question,answer\n" + b"x" * 262144, "big")
    assert said == "The file is larger than 256 KiB, the most a question set may be."
    said = await _upload(harness, admin, "set.txt", b"question,answer\n1,1\n", "txt")
    assert said == "Upload a .json or .csv file, not set.txt."
    said = await _upload(harness, admin, "set.csv", b"question,answer\n1,1\n", "arithmetic")
    assert said == "arithmetic is the built-in set; choose another name."
    assert await harness.store.challenge_sets(world.guild.id) == []
    assert await harness.store.audit_log(world.guild.id) == []


async def test_a_member_without_manage_server_may_not_upload(harness):
    world, driver = harness.world, harness.driver
    # A server admin may show the command to anyone; the bot still checks.
    driver.permit_command(world.guild, "council-admin", world.bob)
    said = await _upload(harness, world.bob, "trivia.csv", CSV_SET.encode(), "trivia")
    assert said == "Only members with Manage Server can do that."
    assert await harness.store.challenge_sets(world.guild.id) == []


def _picks(name: str):
    """Claude and Llama pick the right choice; DeepSeek and Gemini always say A."""

    def reply(request) -> str:
        asked = request.turns()[0][1]
        if name in ("DeepSeek", "Gemini"):
            return "I think it is the first.\n\nAnswer: A"
        return "Answer: B" if "Norway" in asked else "Answer: C"

    return reply


async def test_a_challenge_on_an_uploaded_set_with_choices_shows_them_and_reveals_the_choice(
    harness, monkeypatch
):
    monkeypatch.setattr(challenge_desk, "PREDICT_S", 0.5)
    admin, world, driver = _admin(harness), harness.world, harness.driver
    await _upload(harness, admin, "trivia.csv", CSV_SET.encode(), "trivia")
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=_picks(name))
    suggested = await driver.autocomplete(
        world.host, world.general, "council challenge", "preset", ""
    )
    assert suggested == [(p, p) for p in harness.config.presets]
    started = await driver.slash(
        world.host, world.general, "council challenge", set="trivia", count=2, preset="default"
    )
    opening = await started.wait_response(timeout=10)
    assert "answer 2 questions from the trivia set" in opening.content

    question = await _message(harness, "**Question 1/2:** Capital of Norway?")
    assert question.content.splitlines()[1:5] == ["", "A) Bergen", "B) Oslo", "C) Tromsø"]
    [asked, *_] = harness.llm.requests_for("claude-model")
    assert "B) Oslo" in asked.turns()[0][1]
    reveal = await _message(harness, "**Answer 1: B) Oslo**")
    assert reveal.content.splitlines()[1:3] == [
        "Alone: Claude B ✅, DeepSeek A ❌, Gemini A ❌, Llama B ✅",
        "After debate: Claude B ✅, DeepSeek A ❌, Gemini A ❌, Llama B ✅",
    ]
    await _message(harness, "**Answer 2: C) Jupiter**")
    summary = await _message(harness, "🏁 **Challenge over", timeout=20)
    assert "- Claude: 2/2 (100 %, 95 % CI 34-100 %)" in summary.content
    [entry] = await harness.store.audit_log(world.guild.id, action="challenge.start")
    assert entry.detail == "trivia, 2"


async def test_an_unknown_set_is_refused_privately(harness):
    world, driver = harness.world, harness.driver
    refused = await driver.slash(world.host, world.general, "council challenge", set="nope")
    reply = await refused.wait_response()
    assert reply.is_ephemeral
    assert reply.content == (
        "This server has no question set called nope: see `/council-admin challenge-set list`."
    )


async def test_predictions_made_before_a_restart_count_at_the_reveal_after_it(harness, monkeypatch):
    world, driver, fake = harness.world, harness.driver, harness.fake
    for name in NAMES:  # the first question hangs until the restart
        harness.llm.script(f"{name.lower()}-model", reply="late", first_token_delay_s=30)
    started = await driver.slash(world.host, world.general, "council challenge", count=1)
    await started.wait_response(timeout=10)
    question = await _message(harness, "**Question 1/1:**")
    [challenge] = await harness.store.unfinished_challenges()
    right = predict_custom_id(challenge.id, 1, "right")
    wrong = predict_custom_id(challenge.id, 1, "wrong")
    for custom_id in (wrong, right):  # Bob changes his mind: one prediction, the last
        click = await driver.click(world.bob, question, custom_id)
        await click.wait_responses()
    await fake.wait_for(lambda: harness.llm.in_flight() == 4, what="the members to be asked")

    await harness.stop()
    monkeypatch.setattr(challenge_desk, "PREDICT_S", 1.0)
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Answer: 251")
    await harness.start()
    resumed = await _message(harness, "🔄 The bot restarted")
    assert resumed.content.startswith(
        "🔄 The bot restarted: the challenge carries on at question 1."
    )
    # The old buttons still work after the restart.
    click = await driver.click(world.host, question, wrong)
    [said] = await click.wait_responses()
    assert said.content == "Your prediction is in: the council will be wrong."

    reveal = await _message(harness, "**Answer 1: 251**")
    assert reveal.content.splitlines()[-1] == (
        "Predictions: 1 said right, 1 said wrong; 1 guessed correctly."
    )
    await _message(harness, "🏁 **Challenge over")
    # The open question was not asked again, and its buttons went with the reveal.
    asked = [m for m in driver.read(world.general, as_user=world.bob) if "Question" in m.content]
    assert [(m.id, m.buttons) for m in asked] == [(question.id, ())]
    assert await harness.store.unfinished_challenges() == []


async def test_a_member_the_voting_rules_keep_out_may_not_predict(harness):
    world, driver = harness.world, harness.driver
    role = driver.create_role(world.guild, "Voters")
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, voter_role_id=role.id, pause_between_rounds_s=0)
    )
    for name in NAMES:  # the question stays open while the test runs
        harness.llm.script(f"{name.lower()}-model", reply="late", first_token_delay_s=30)
    started = await driver.slash(world.host, world.general, "council challenge", count=1)
    await started.wait_response(timeout=10)
    question = await _message(harness, "**Question 1/1:**")
    [challenge] = await harness.store.unfinished_challenges()
    click = await driver.click(world.bob, question, predict_custom_id(challenge.id, 1, "right"))
    [said] = await click.wait_responses()
    assert said.is_ephemeral
    assert said.content == f"Only members with the <@&{role.id}> role can vote here."
    assert await harness.store.record_prediction(challenge.id, 1, world.host.id, "wrong")
    counts = await harness.store.reveal_challenge_question(
        challenge.id, 1, QuestionResult(challenge.questions[0], {}, {})
    )
    assert (counts.right, counts.wrong) == (0, 1)
