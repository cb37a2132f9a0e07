"""Private replies come in the language of the member's own Discord client."""

# ruff: noqa: RUF001  (the expected replies are Russian: Cyrillic letters that look Latin)

from __future__ import annotations

from types import SimpleNamespace

import regex

from bot.council.models import GuildSettings, VoteValue
from bot.discord_ui.notices import MESSAGE_MAX_CHARS, HostNotices
from bot.discord_ui.views import vote_custom_id
from bot.graphemes import clusters
from bot.i18n import t
from tests.fakediscord.state import Perm


def _private(handle) -> str:
    [reply] = handle.responses
    assert reply.is_ephemeral
    return reply.content


async def _run(harness, user, channel, command, **options) -> str:
    handle = await harness.driver.slash(user, channel, command, **options)
    await handle.wait_response()
    return _private(handle)


async def test_a_refusal_from_the_council_service_is_in_the_hosts_language(harness):
    world, driver = harness.world, harness.driver
    russian = driver.create_member(
        world.guild, "ivan", permissions=Perm.MANAGE_THREADS, locale="ru"
    )

    refused = await _run(
        harness, russian, world.general, "council start", topic="Чай?", members="Claude"
    )
    same = await _run(
        harness, world.host, world.general, "council start", topic="Tea?", members="Claude"
    )

    assert refused == "В совете должно быть от 2 до 8 участников; вы назвали 1."
    assert same == "A council needs 2 to 8 members; you named 1."
    assert await harness.store.count_sessions() == 0


async def test_a_member_who_is_not_a_host_is_refused_in_their_language(harness):
    world, driver = harness.world, harness.driver
    russian = driver.create_member(world.guild, "olga", locale="ru")

    refused = await _run(harness, russian, world.general, "council start", topic="Чай?")
    same = await _run(harness, world.bob, world.general, "council start", topic="Tea?")

    assert refused == (
        "Это могут только ведущие. Ведущие — участники с правом «Управлять ветками»."
    )
    assert same == "Only hosts can do that. Hosts are members with Manage Threads."


async def test_settings_are_confirmed_in_the_admins_language_with_its_way_of_writing_money(
    harness,
):
    world, driver = harness.world, harness.driver
    russian = driver.create_member(
        world.guild, "admin-ru", permissions=Perm.MANAGE_GUILD, locale="ru"
    )
    english = driver.create_member(world.guild, "admin-en", permissions=Perm.MANAGE_GUILD)

    shown = await _run(harness, russian, world.general, "council-admin settings", budget_usd=1.5)
    same = await _run(harness, english, world.general, "council-admin settings")

    lines = shown.splitlines()
    assert lines[0] == "**Настройки советов**"
    assert "Бюджет на совет: 1,50\N{NO-BREAK SPACE}$ · в день: нет" in lines
    assert "Каналы: любые" in lines
    assert "Budget per council: $1.50 · per day: none" in same.splitlines()
    assert same.startswith("**Council settings**\nHosts: Manage Threads only\nChannels: any\n")


async def test_a_persona_edit_is_confirmed_in_the_admins_language(harness):
    world, driver = harness.world, harness.driver
    russian = driver.create_member(
        world.guild, "admin-ru", permissions=Perm.MANAGE_GUILD, locale="ru"
    )

    done = await _run(
        harness, russian, world.general, "persona edit", name="Claude", color="#112233"
    )
    refused = await _run(harness, russian, world.general, "persona edit", name="Claude")

    assert done == "Персона **Claude** обновлена для этого сервера."
    assert refused == "Укажите, что изменить: хотя бы одно из `avatar_url`, `style` или `color`."


async def test_a_channel_option_the_bot_refuses_is_explained_not_apologised_for(harness):
    world, driver = harness.world, harness.driver
    russian = driver.create_member(
        world.guild, "ivan", permissions=Perm.MANAGE_THREADS, locale="ru"
    )
    thread = driver.create_thread(world.general, "side talk", owner=world.host)

    refused = await _run(
        harness, russian, world.general, "council start", topic="Чай?", in_channel=thread
    )
    same = await _run(
        harness, world.host, world.general, "council start", topic="Tea?", in_channel=thread
    )

    assert refused == "Выберите текстовый канал или форум."
    assert same == "Pick a text or forum channel."


async def test_an_unexpected_error_is_apologised_for_in_the_members_language(harness, monkeypatch):
    async def broken(guild_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(harness.store, "guild_settings", broken)
    world, driver = harness.world, harness.driver
    russian = driver.create_member(
        world.guild, "ivan", permissions=Perm.MANAGE_THREADS, locale="ru"
    )

    apology = await _run(harness, russian, world.general, "council start", topic="Ой")
    same = await _run(harness, world.host, world.general, "council start", topic="Oops")

    assert apology.startswith("Извините, что-то пошло не так (код ошибки `")
    assert apology.endswith("`). Ошибка записана в журнал.")
    assert same.startswith("Sorry, something went wrong (error id `")


async def test_a_refused_vote_is_explained_in_the_voters_language(harness):
    world, driver = harness.world, harness.driver
    role = driver.create_role(world.guild, "Voters")
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, voter_role_id=role.id)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Votes", rounds=1)
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    claude = next(m for m in driver.read(thread, as_user=world.bob) if m.author_name == "Claude")
    reply = await harness.store.reply_for_message(claude.id)
    up = vote_custom_id(reply.id, VoteValue.UP)
    russian = driver.create_member(world.guild, "olga", locale="ru")
    robot = driver.create_user("robot", bot=True, locale="ru")
    driver.add_member(world.guild, robot, roles=[role])

    refused = await driver.click(russian, claude, up)
    bot_refused = await driver.click(robot, claude, up)
    same = await driver.click(world.bob, claude, up)
    for handle in (refused, bot_refused, same):
        await handle.wait_response()

    assert _private(refused) == f"Голосовать здесь могут только участники с ролью <@&{role.id}>."
    assert _private(bot_refused) == "Боты не могут голосовать."
    assert _private(same) == f"Only members with the <@&{role.id}> role can vote here."
    assert await harness.store.votes_for(reply.id) == (0, 0)


async def test_a_running_councils_status_and_a_queued_question_read_in_the_members_language(
    harness,
):
    world, driver = harness.world, harness.driver
    # Claude's slow first answer keeps round 1 under way while members ask.
    harness.llm.script("claude-model", reply="An answer.", first_token_delay_s=2.0)
    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=2)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    russian = driver.create_member(world.guild, "olga", locale="ru")

    queued = await _run(harness, russian, thread, "council ask", question="А кофе?")
    status = await _run(harness, russian, thread, "council status")
    same = await _run(harness, world.bob, thread, "council status")
    await harness.wait_ended()

    assert queued == "Ваш вопрос поставлен в очередь на раунд 2."
    lines = status.splitlines()
    assert lines[:2] == [f"**Совет #{session.id}** — идёт", "Раунд 1 из 2"]
    assert lines[2].startswith("Говорят: ")
    assert regex.fullmatch(
        r"Потрачено: ~\d+,\d{4}\N{NO-BREAK SPACE}\$, [\d\N{NO-BREAK SPACE}]+ токен\w*", lines[3]
    )
    assert lines[4] == "Вопросов в очереди: 1"
    english = same.splitlines()
    assert english[:2] == [f"**Council #{session.id}** — running", "Round 1 of 2"]
    assert regex.fullmatch(r"Spent: ~\$\d+\.\d{4}, [\d,]+ tokens?", english[3])
    assert english[4] == "Questions waiting: 1"


class _Response:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def is_done(self) -> bool:
        return False

    async def send_message(self, content: str, **options: object) -> None:
        assert options["ephemeral"] is True
        self.sent.append(content)


def _interaction(user_id: int, locale: str) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(id=user_id), locale=locale, response=_Response())


async def test_host_notices_are_rendered_in_the_language_of_whoever_collects_them():
    notices = HostNotices()
    notices.leave(1, t("replies.resume.not-paused", session=7))
    notices.leave(1, "Claude's key was rejected.")
    notices.leave(2, t("replies.resume.not-paused", session=7))

    russian, english = _interaction(1, "ru"), _interaction(2, "en-US")
    await notices.deliver(russian)
    await notices.deliver(english)

    assert russian.response.sent == ["⚠️ Совет #7 не на паузе.\n⚠️ Claude's key was rejected."]
    assert english.response.sent == ["⚠️ Council #7 is not paused."]
    assert notices.take(1) == []


async def test_host_notices_too_long_for_one_message_are_cut_between_whole_characters():
    family = "\N{MAN}\N{ZWJ}\N{WOMAN}\N{ZWJ}\N{GIRL}"  # one character on screen, five code points
    notices = HostNotices()
    for _ in range(3):
        notices.leave(1, family * 150)
    interaction = _interaction(1, "ru")

    await notices.deliver(interaction)

    [text] = interaction.response.sent
    assert len(text) <= MESSAGE_MAX_CHARS
    assert text.endswith("…")
    assert set(clusters(text[:-1])) <= {family, "⚠️", " ", "\n"}
