"""A tiny discord.py bot that exercises what the council bot needs from Discord.

`/tiny start topic` defers, makes (or reuses) a channel webhook, opens a thread, posts into it
under a persona's username with vote buttons (persistent `DynamicItem`s), and follows up.
Other commands answer at once, wait for the test's signal, or open a modal.
"""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

PERSONA_NAME = "Claude"
PERSONA_AVATAR = "https://example.org/claude.png"
WEBHOOK_NAME = "Tiny Council"


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"tiny:vote:(?P<reply>\d+):(?P<way>up|down)",
):
    """A persistent vote button; its state lives in the custom id."""

    def __init__(self, reply: int, way: str) -> None:
        self.reply, self.way = reply, way
        super().__init__(
            discord.ui.Button(
                label="👍 Agree" if way == "up" else "👎 Disagree",
                style=discord.ButtonStyle.success if way == "up" else discord.ButtonStyle.danger,
                custom_id=f"tiny:vote:{reply}:{way}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["reply"]), match["way"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        assert isinstance(bot, TinyBot)
        bot.votes.append((interaction.user.id, self.reply, self.way))
        await interaction.response.send_message(f"Vote {self.way} recorded", ephemeral=True)


class CloseButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"tiny:close:(?P<reply>\d+)"
):
    """Closes voting by editing the message (interaction response type 7) with disabled buttons."""

    def __init__(self, reply: int) -> None:
        self.reply = reply
        super().__init__(discord.ui.Button(label="Close", custom_id=f"tiny:close:{reply}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CloseButton:
        return cls(int(match["reply"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(
            content="Voting closed", view=vote_view(self.reply, disabled=True)
        )


def vote_view(reply: int, *, disabled: bool = False) -> discord.ui.View:
    """The buttons under a persona's reply."""
    view = discord.ui.View(timeout=None)
    for item in (VoteButton(reply, "up"), VoteButton(reply, "down"), CloseButton(reply)):
        item.item.disabled = disabled
        view.add_item(item)
    return view


class QuestionModal(discord.ui.Modal, title="Ask the council"):
    """A one-field modal."""

    question: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Question", custom_id="question", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Asked: {self.question.value}")


class TinyTree(app_commands.CommandTree["TinyBot"]):
    """Keeps command errors for the test instead of only logging them."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.client.errors.append(error)
        self.client.notify()


class TinyBot(commands.Bot):
    """The test bot; `gates` let a test hold a command at a chosen point."""

    def __init__(self, guild_id: int) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix="!",
            intents=intents,
            tree_cls=TinyTree,
            guild_ready_timeout=0.05,
            help_command=None,
        )
        self.guild_id = guild_id
        self.votes: list[tuple[int, int, str]] = []
        self.errors: list[Exception] = []
        self.seen_messages: list[discord.Message] = []
        self.reached: dict[str, asyncio.Event] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.changed = asyncio.Event()
        self.resumes = 0

    def notify(self) -> None:
        """Wake waiters in `wait_until`."""
        self.changed.set()
        self.changed = asyncio.Event()

    async def pause(self, name: str) -> None:
        """Signal that a command reached `name`, then wait for the test to open that gate."""
        self.reached.setdefault(name, asyncio.Event()).set()
        await self.gates.setdefault(name, asyncio.Event()).wait()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton, CloseButton)
        guild = discord.Object(self.guild_id)
        self.tree.add_command(TinyGroup(), guild=guild)
        self.tree.add_command(tiny_admin, guild=guild)
        await self.tree.sync(guild=guild)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every re-IDENTIFY (Discord's identify rate limit); the
        # fake has no such limit, so the invalid-session test need not wait.
        return

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)
        self.notify()

    async def on_resumed(self) -> None:
        self.resumes += 1
        self.notify()


class AdminGroup(app_commands.Group, name="admin", description="Admin commands"):
    """A subcommand group, to exercise nested option resolution."""

    @app_commands.command(name="echo", description="Echo text back")
    async def echo(self, interaction: discord.Interaction, text: str, times: int = 1) -> None:
        """Echo text back."""
        await interaction.response.send_message(" ".join([text] * times), ephemeral=True)


class TinyGroup(app_commands.Group, name="tiny", description="Tiny council"):
    """The tiny bot's commands."""

    admin = AdminGroup()

    @app_commands.command(name="start", description="Start a tiny council")
    async def start(self, interaction: discord.Interaction, topic: str) -> None:
        """Defer, open a thread, post as a persona through the bot's webhook, follow up."""
        await interaction.response.defer(thinking=True)
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        hooks = [h for h in await channel.webhooks() if h.user is not None and h.user.bot]
        webhook = hooks[0] if hooks else await channel.create_webhook(name=WEBHOOK_NAME)
        thread = await channel.create_thread(name=topic, type=discord.ChannelType.public_thread)
        reply = await webhook.send(
            f"My view on {topic}: it depends.",
            username=PERSONA_NAME,
            avatar_url=PERSONA_AVATAR,
            thread=thread,
            view=vote_view(1),
            wait=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await interaction.followup.send(f"Council started in {thread.mention} (reply {reply.id})")

    @app_commands.command(name="ping", description="Answer at once")
    async def ping(self, interaction: discord.Interaction) -> None:
        """Reply immediately."""
        await interaction.response.send_message("pong")

    @app_commands.command(name="slow", description="Wait for the test before acknowledging")
    async def slow(self, interaction: discord.Interaction) -> None:
        """Wait at gate "ack", defer, wait at gate "followup", follow up."""
        bot = interaction.client
        assert isinstance(bot, TinyBot)
        await bot.pause("ack")
        await interaction.response.defer()
        await bot.pause("followup")
        await interaction.followup.send("finally")

    @app_commands.command(name="twice", description="Acknowledge twice")
    async def twice(self, interaction: discord.Interaction) -> None:
        """Defer, then acknowledge again through a second response object (breaks the rule)."""
        await interaction.response.defer()
        await discord.InteractionResponse(interaction).defer()

    @app_commands.command(name="stream", description="Edit the response as it streams")
    async def stream(self, interaction: discord.Interaction) -> None:
        """Defer ephemerally, edit the original response as text arrives, attach a transcript."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        for text in ("Thinking", "Thinking harder", "Done"):
            await interaction.edit_original_response(content=text)
        transcript = discord.File(io.BytesIO(b"# Transcript\n"), filename="transcript.md")
        await interaction.followup.send("Transcript attached", file=transcript, ephemeral=True)

    @app_commands.command(name="ask", description="Open a modal")
    async def ask(self, interaction: discord.Interaction) -> None:
        """Answer with a modal."""
        await interaction.response.send_modal(QuestionModal())


@app_commands.command(name="tiny-admin", description="Only for those who may manage threads")
@app_commands.default_permissions(manage_threads=True)
async def tiny_admin(interaction: discord.Interaction) -> None:
    """Reply to a moderator."""
    await interaction.response.send_message("hello, moderator", ephemeral=True)
