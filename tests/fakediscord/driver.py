"""The test driver: builds guilds and acts as their members (slash commands, clicks, modals).

Every action goes through the fake's world and gateway exactly as Discord would deliver it, and
fails with `DriverError` when a real member could not do it (a command the bot never synced, a
disabled or missing button, a channel the member cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakediscord import actions
from tests.fakediscord.payloads import guild_create, interaction_json
from tests.fakediscord.reader import DriverError, SeenMessage, can_see, read, see
from tests.fakediscord.routes_interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE_INTERACTION,
    COMPONENT,
    MODAL_SUBMIT,
)
from tests.fakediscord.rules import walk_components
from tests.fakediscord.state import (
    Attachment,
    Channel,
    ChannelType,
    Command,
    Guild,
    Interaction,
    Member,
    Message,
    Overwrite,
    Perm,
    Role,
    User,
    Webhook,
    is_named,
    make_interaction_token,
)

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)


@dataclass(frozen=True)
class Upload:
    """A file a member attaches to a slash command's attachment option."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


class InteractionHandle:
    """A pending interaction: await the bot's acknowledgement, responses, followups or modal."""

    def __init__(self, fake: FakeDiscord, interaction: Interaction) -> None:
        self.fake = fake
        self.interaction = interaction

    @property
    def is_acknowledged(self) -> bool:
        """Whether the bot answered the callback."""
        return self.interaction.response_type is not None

    @property
    def response_type(self) -> int | None:
        """The callback type the bot used (4 message, 5 deferred, 6/7 update, 9 modal)."""
        return self.interaction.response_type

    @property
    def is_deferred(self) -> bool:
        """Whether the bot deferred (type 5) first."""
        return self.interaction.response_type == 5

    @property
    def original(self) -> SeenMessage | None:
        """The original response message as the invoking member sees it."""
        message_id = self.interaction.original_message_id
        message = self.fake.world.messages.get(message_id) if message_id else None
        return see(self.fake, message) if message is not None else None

    @property
    def followups(self) -> list[SeenMessage]:
        """Followup messages after the original response (not the one that replaced the loader)."""
        world = self.fake.world
        return [
            see(self.fake, world.messages[m])
            for m in self.interaction.followup_ids
            if m in world.messages
        ]

    @property
    def responses(self) -> list[SeenMessage]:
        """Everything the member got back: the finished original response, then followups.

        A component interaction's "original" is the message its button is on, not a reply.
        """
        original = self.original
        is_reply = original is not None and original.id != self.interaction.message_id
        head = [original] if original is not None and is_reply and not original.is_loading else []
        return head + self.followups

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot answered with, if any."""
        return self.interaction.modal

    async def wait_ack(self, timeout: float = 5.0) -> InteractionHandle:
        """Wait for the bot's acknowledgement."""
        await self.fake.wait_for(
            lambda: self.is_acknowledged,
            timeout=timeout,
            what=f"acknowledgement of interaction {self.interaction.id}",
        )
        return self

    async def wait_responses(self, count: int = 1, timeout: float = 5.0) -> list[SeenMessage]:
        """Wait until at least `count` visible responses exist and return them."""
        return await self.fake.wait_for(
            lambda: self.responses if len(self.responses) >= count else None,
            timeout=timeout,
            what=f"{count} response(s) to interaction {self.interaction.id}",
        )

    async def wait_response(self, timeout: float = 5.0) -> SeenMessage:
        """Wait for the first visible response (original or first followup)."""
        return (await self.wait_responses(1, timeout))[0]

    async def wait_modal(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the bot to answer with a modal."""
        return await self.fake.wait_for(
            lambda: self.modal,
            timeout=timeout,
            what=f"a modal for interaction {self.interaction.id}",
        )


@dataclass
class Driver:
    """Acts as Discord's users and admins against a `FakeDiscord`."""

    fake: FakeDiscord

    # -- building the world ------------------------------------------------------------------

    def _new_id(self) -> int:
        return self.fake.world.snowflakes.next()

    def create_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        avatar_url: str | None = None,
        bot: bool = False,
        locale: str = "en-US",
    ) -> User:
        """A Discord account (not yet in any guild) whose client is set to `locale`."""
        user = User(self._new_id(), username, global_name, avatar_url, bot, locale)
        self.fake.world.users[user.id] = user
        return user

    def create_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | None = None,
        locale: str = "en-US",
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A guild the bot is in; announced with GUILD_CREATE when the bot is already connected.

        `locale` is the server's primary language (its `preferred_locale`); `shard`
        (shard_id, num_shards) gives it an id whose events that shard receives.
        """
        guild = self.fake.create_guild(name, owner=owner, shard=shard)
        guild.preferred_locale = locale
        self.fake.dispatch("GUILD_CREATE", guild_create(self.fake, guild))
        return guild

    def create_role(
        self,
        guild: Guild,
        name: str,
        permissions: Perm | int = 0,
        *,
        mentionable: bool = False,
    ) -> Role:
        """A role with these permissions."""
        role = Role(
            self._new_id(),
            guild.id,
            name,
            int(permissions),
            position=len(guild.roles),
            mentionable=mentionable,
        )
        guild.roles[role.id] = role
        self.fake.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_json()})
        return role

    def set_role_permissions(self, guild: Guild, role: Role, permissions: Perm | int) -> None:
        """Change a role's permissions (e.g. revoke one from the bot's role or @everyone)."""
        role.permissions = int(permissions)
        self.fake.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.to_json()})

    def revoke(self, guild: Guild, permission: Perm, *, channel: Channel | None = None) -> None:
        """Take a permission from the bot: from its roles and @everyone, or by channel overwrite."""
        if channel is not None:
            self.set_overwrite(channel, self.fake.bot_user, deny=permission)
            return
        for role_id in [guild.id, *guild.members[self.fake.bot_user.id].roles]:
            role = guild.roles[role_id]
            self.set_role_permissions(guild, role, role.permissions & ~permission)

    def add_member(
        self, guild: Guild, user: User, *, roles: list[Role] | None = None, nick: str | None = None
    ) -> Member:
        """Put a user in a guild with these roles."""
        member = Member(user=user, guild_id=guild.id, roles=[r.id for r in roles or []], nick=nick)
        guild.members[user.id] = member
        self.fake.dispatch("GUILD_MEMBER_ADD", {**member.to_json(), "guild_id": str(guild.id)})
        return member

    def create_member(
        self,
        guild: Guild,
        username: str,
        *,
        roles: list[Role] | None = None,
        permissions: Perm | None = None,
        nick: str | None = None,
        locale: str = "en-US",
    ) -> User:
        """A new user who is a member; `permissions` gives them a role of their own with those."""
        user = self.create_user(username, locale=locale)
        roles = list(roles or [])
        if permissions is not None:
            roles.append(self.create_role(guild, f"{username}-role", permissions))
        self.add_member(guild, user, roles=roles, nick=nick)
        return user

    def _channel(
        self,
        guild: Guild,
        name: str,
        kind: ChannelType,
        overwrites: list[Overwrite] | None,
        topic: str | None = None,
    ) -> Channel:
        channel = Channel(
            self._new_id(),
            guild.id,
            kind,
            name,
            position=len(guild.channel_ids),
            overwrites=list(overwrites or []),
            topic=topic,
        )
        self.fake.world.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        self.fake.dispatch("CHANNEL_CREATE", channel.to_json())
        return channel

    def create_text_channel(
        self,
        guild: Guild,
        name: str = "general",
        *,
        overwrites: list[Overwrite] | None = None,
        topic: str | None = None,
    ) -> Channel:
        """A text channel, optionally with permission overwrites."""
        return self._channel(guild, name, ChannelType.TEXT, overwrites, topic)

    def create_forum_channel(
        self, guild: Guild, name: str = "forum", *, overwrites: list[Overwrite] | None = None
    ) -> Channel:
        """A forum channel."""
        return self._channel(guild, name, ChannelType.FORUM, overwrites)

    def create_thread(
        self, parent: Channel, name: str, *, owner: User, private: bool = False
    ) -> Channel:
        """A thread a member started in a channel."""
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        return actions.create_thread(self.fake, parent, name, owner=owner, thread_type=kind)

    def set_overwrite(
        self, channel: Channel, target: User | Role, *, allow: Perm | int = 0, deny: Perm | int = 0
    ) -> None:
        """Set a channel permission overwrite for a member or role (replacing an existing one)."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites = [o for o in channel.overwrites if o.id != target.id]
        channel.overwrites.append(Overwrite(target.id, kind, int(allow), int(deny)))
        self.fake.dispatch("CHANNEL_UPDATE", channel.to_json())

    def create_webhook(self, channel: Channel, name: str, *, by: User) -> Webhook:
        """A webhook a member made by hand (not owned by the bot's application)."""
        return actions.create_webhook(self.fake, channel, name, creator=by, application_id=None)

    # -- faults that are world changes -------------------------------------------------------

    def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook as an admin would, mid-session."""
        webhook = self.fake.world.webhooks.pop(webhook_id)
        actions.webhooks_updated(self.fake, self.fake.world.channels[webhook.channel_id])

    def delete_channel(self, channel: Channel) -> None:
        """Delete a channel or thread as an admin would, mid-session."""
        actions.delete_channel(self.fake, channel)

    def archive_thread(self, thread: Channel, *, locked: bool = False) -> None:
        """Archive (and optionally lock) a thread."""
        thread.archived, thread.locked = True, locked
        self.fake.dispatch("THREAD_UPDATE", thread.to_json())

    # -- acting as members ---------------------------------------------------------------------

    def _member(self, user: User, channel: Channel) -> Member:
        member = self.fake.world.member(channel.guild_id, user.id)
        if member is None:
            raise DriverError(f"{user.username} is not a member of the guild of #{channel.name}")
        if not can_see(self.fake, channel, user.id):
            raise DriverError(f"{user.username} cannot view #{channel.name}")
        return member

    async def send_message(
        self,
        user: User,
        channel: Channel,
        content: str,
        *,
        reply_to: Message | SeenMessage | None = None,
    ) -> Message:
        """Post a message as a member (needs Send Messages, or Send Messages in Threads)."""
        self._member(user, channel)
        needed = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
        if not self.fake.world.permissions_in(channel, user.id) & needed:
            raise DriverError(f"{user.username} may not send messages in #{channel.name}")
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": str(reply_to.id),
                "channel_id": str(channel.id),
            }
        message = actions.new_message(
            self.fake, channel, user, body, [], message_type=19 if reply_to is not None else 0
        )
        return actions.store_message(self.fake, message)

    def _start(
        self,
        user: User,
        channel: Channel,
        kind: int,
        data: dict[str, Any],
        message: Message | None = None,
    ) -> InteractionHandle:
        member = self._member(user, channel)
        interaction = Interaction(
            id=self._new_id(),
            token=make_interaction_token(),
            type=kind,
            guild_id=channel.guild_id,
            channel_id=channel.id,
            user_id=user.id,
            data=data,
            created_at_s=self.fake.now_s(),
            message_id=message.id if message is not None else None,
        )
        self.fake.world.interactions[interaction.id] = interaction
        self.fake.dispatch(
            "INTERACTION_CREATE", interaction_json(self.fake, interaction, member, channel)
        )
        return InteractionHandle(self.fake, interaction)

    def synced_command(
        self, guild_id: int, name: str, locale: str = "en-US", *, kind: int = CHAT_INPUT
    ) -> Command:
        """The command of this kind (chat input, user or message) the bot synced for this guild
        (guild commands win over global), by its canonical name or its name in `locale`."""
        found = [
            c
            for c in self.fake.world.commands.values()
            if c.type == kind and is_named(c.data, name, locale) and c.guild_id in (guild_id, None)
        ]
        if not found:
            synced = sorted(c.name for c in self.fake.world.commands.values())
            raise DriverError(f"the bot never synced {name!r} of type {kind} (synced: {synced})")
        return sorted(found, key=lambda c: c.guild_id is None)[0]

    def _require_permitted(self, user: User, channel: Channel, cmd: Command) -> None:
        required = cmd.data.get("default_member_permissions")
        have = self.fake.world.permissions_in(channel, user.id)
        if required is not None and int(required) & ~have and user.id not in cmd.permitted_user_ids:
            # Discord hides such commands from members who lack the permissions.
            raise DriverError(f"{user.username} lacks the permissions {cmd.name!r} requires")

    def permit_command(self, guild: Guild, name: str, user: User) -> None:
        """Let `user` run /name here despite its default permissions, as a server admin can in
        Server Settings > Integrations; the bot sees nothing of it, so its own checks still run.
        """
        self.synced_command(guild.id, name).permitted_user_ids.add(user.id)

    async def slash(
        self, user: User, channel: Channel, command: str, **options: Any
    ) -> InteractionHandle:
        """Run a slash command such as ``"council start"`` with options by name.

        Names may be the canonical ones or, as the member's client shows them, those of their
        locale; the interaction carries the canonical names, as Discord's do.
        """
        data, _ = self._command_data(user, channel, command, options)
        return self._start(user, channel, APPLICATION_COMMAND, data)

    async def autocomplete(
        self, user: User, channel: Channel, command: str, focused: str, typed: str, **options: Any
    ) -> list[tuple[str, str]]:
        """What the bot suggests while `user` types `typed` into option `focused` of a slash
        command (other options as already filled in), as (name, value) pairs.

        As Discord sends it (docs: interactions/receiving-and-responding, Autocomplete): an
        interaction of type 4, the command's options so far, the focused one marked and its
        partial value not validated.
        """
        data, leaf = self._command_data(user, channel, command, options)
        spec = next((o for o in leaf if is_named(o, focused, user.locale)), None)
        if spec is None or not spec.get("autocomplete"):
            raise DriverError(f"/{command}: option {focused!r} has no autocomplete")
        container: list[dict[str, Any]] = data["options"]
        while container and container[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            container = container[0]["options"]
        container.append(
            {"type": spec["type"], "name": spec["name"], "value": typed, "focused": True}
        )
        handle = self._start(user, channel, AUTOCOMPLETE_INTERACTION, data)
        choices = await self.fake.wait_for(
            lambda: handle.interaction.choices,
            what=f"suggestions for /{command} {focused}",
        )
        return [(c["name"], c["value"]) for c in choices]

    def _command_data(
        self, user: User, channel: Channel, command: str, options: dict[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The interaction data of a slash command with these options, and the schema of the
        options at its (sub)command's level."""
        words = command.split()
        cmd = self.synced_command(channel.guild_id, words[0], user.locale)
        self._require_permitted(user, channel, cmd)
        resolved: dict[str, dict[str, Any]] = {}
        top: list[dict[str, Any]] = []
        container, level = top, list(cmd.data.get("options") or [])
        for word in words[1:]:
            sub = next(
                (
                    o
                    for o in level
                    if is_named(o, word, user.locale)
                    and o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if sub is None:
                raise DriverError(f"/{command}: no subcommand {word!r} in the synced schema")
            node: dict[str, Any] = {"type": sub["type"], "name": sub["name"], "options": []}
            container.append(node)
            container, level = node["options"], list(sub.get("options") or [])
        if any(o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in level):
            names = [o["name"] for o in level]
            raise DriverError(f"/{command} needs a subcommand, one of {names}")
        container.extend(self._options(command, level, options, channel, resolved, user.locale))
        data: dict[str, Any] = {"id": str(cmd.id), "name": cmd.name, "type": 1, "options": top}
        if resolved:
            data["resolved"] = resolved
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return data, level

    async def context_menu(
        self, user: User, message: Message | SeenMessage | int, name: str
    ) -> InteractionHandle:
        """Pick a message command (Apps > `name`) on a message, as the member's client shows it.

        As Discord sends it (docs: interactions/receiving-and-responding, Application Command
        Data Structure): the command's canonical name and type 3, `target_id`, and the message in
        `resolved.messages`.
        """
        target = self._message(message)
        channel = self.fake.world.channels[target.channel_id]
        cmd = self.synced_command(channel.guild_id, name, user.locale, kind=MESSAGE_COMMAND)
        self._require_permitted(user, channel, cmd)
        if target.is_ephemeral and (
            target.interaction_user is None or target.interaction_user.id != user.id
        ):
            raise DriverError(f"{user.username} cannot see ephemeral message {target.id}")
        data: dict[str, Any] = {
            "id": str(cmd.id),
            "name": cmd.name,
            "type": MESSAGE_COMMAND,
            "target_id": str(target.id),
            "resolved": {"messages": {str(target.id): target.to_json()}},
        }
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return self._start(user, channel, APPLICATION_COMMAND, data)

    def _options(
        self,
        command: str,
        schema: list[dict[str, Any]],
        given: dict[str, Any],
        channel: Channel,
        resolved: dict[str, dict[str, Any]],
        locale: str,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        canonical = {
            word: name
            for word in given
            for name, spec in by_name.items()
            if is_named(spec, word, locale)
        }
        unknown = set(given) - set(canonical)
        if unknown:
            raise DriverError(
                f"/{command}: unknown options {sorted(unknown)}; schema has {list(by_name)}"
            )
        by_canonical = {name: given[word] for word, name in canonical.items()}
        out = []
        for name, spec in by_name.items():
            if name not in by_canonical:
                if spec.get("required"):
                    raise DriverError(f"/{command}: option {name!r} is required")
                continue
            value = self._option_value(command, spec, by_canonical[name], channel, resolved)
            out.append({"type": spec["type"], "name": name, "value": value})
        return out

    def _option_value(
        self,
        command: str,
        spec: dict[str, Any],
        value: Any,
        channel: Channel,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        otype, name = spec["type"], spec["name"]
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise DriverError(f"/{command}: {name}={value!r} is not one of the choices {choices}")
        if otype == STRING:
            if not isinstance(value, str):
                raise DriverError(f"/{command}: {name} must be a string")
            if not spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000):
                raise DriverError(f"/{command}: {name} length is outside the schema's bounds")
            return value
        if otype in (INTEGER, NUMBER):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DriverError(f"/{command}: {name} must be a number")
            low, high = spec.get("min_value"), spec.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise DriverError(f"/{command}: {name}={value} is outside [{low}, {high}]")
            return value
        if otype == BOOLEAN:
            return bool(value)
        if otype == ATTACHMENT:
            if not isinstance(value, Upload):
                raise DriverError(f"/{command}: {name} must be an Upload")
            # As Discord sends it: the id as the value, the file in `resolved.attachments`
            # (docs: interactions/receiving-and-responding, Resolved Data Structure), served
            # from the CDN.
            attachment = Attachment(
                self.fake.world.snowflakes.next(), value.filename, value.content_type, value.data
            )
            self.fake.uploads[attachment.id] = attachment
            data = attachment.to_json(channel.id)
            data["url"] = data["proxy_url"] = self.fake.upload_url(attachment)
            data["ephemeral"] = True
            resolved.setdefault("attachments", {})[str(attachment.id)] = data
            return str(attachment.id)
        guild = self.fake.world.guilds[channel.guild_id]
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.to_json()
            member = guild.members.get(value.id)
            if member is not None:
                data = member.to_json(with_user=False)
                data["permissions"] = str(self.fake.world.permissions_in(channel, value.id))
                resolved.setdefault("members", {})[str(value.id)] = data
            return str(value.id)
        if isinstance(value, Channel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                **value.to_json(),
                "permissions": str(self.fake.world.permissions_in(value, value.id)),
            }
            return str(value.id)
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
            return str(value.id)
        raise DriverError(f"/{command}: cannot pass {value!r} as option type {otype}")

    def _message(self, message: Message | SeenMessage | int) -> Message:
        message_id = message if isinstance(message, int) else message.id
        found = self.fake.world.messages.get(message_id)
        if found is None:
            raise DriverError(f"message {message_id} does not exist (deleted?)")
        return found

    async def click(
        self, user: User, message: Message | SeenMessage | int, custom_id: str
    ) -> InteractionHandle:
        """Click a button; fails if the message has no such button or it is disabled."""
        target = self._message(message)
        channel = self.fake.world.channels[target.channel_id]
        seen = see(self.fake, target)
        button = next((b for b in seen.buttons if b.custom_id == custom_id), None)
        if button is None:
            raise DriverError(f"message {target.id} has no button {custom_id!r}: {seen.buttons}")
        if button.disabled:
            raise DriverError(f"button {custom_id!r} on message {target.id} is disabled")
        if target.is_ephemeral and (
            target.interaction_user is None or target.interaction_user.id != user.id
        ):
            raise DriverError(f"{user.username} cannot see ephemeral message {target.id}")
        data = {"custom_id": custom_id, "component_type": 2}
        return self._start(user, channel, COMPONENT, data, message=target)

    async def select(
        self, user: User, message: Message | SeenMessage | int, custom_id: str, values: list[str]
    ) -> InteractionHandle:
        """Choose options in a string select menu."""
        target = self._message(message)
        menu = next(
            (
                c
                for c in _components(target)
                if c.get("custom_id") == custom_id and c.get("type") == 3
            ),
            None,
        )
        if menu is None or menu.get("disabled"):
            raise DriverError(f"message {target.id} has no enabled select {custom_id!r}")
        allowed = {o["value"] for o in menu.get("options", [])}
        if not set(values) <= allowed:
            raise DriverError(f"select {custom_id!r} has no options {set(values) - allowed}")
        channel = self.fake.world.channels[target.channel_id]
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return self._start(user, channel, COMPONENT, data, message=target)

    async def submit_modal(
        self, user: User, handle: InteractionHandle, values: dict[str, str]
    ) -> InteractionHandle:
        """Fill in and submit the modal the bot answered `handle` with."""
        modal = handle.modal
        if modal is None:
            raise DriverError(f"interaction {handle.interaction.id} was not answered with a modal")
        if handle.interaction.user_id != user.id:
            raise DriverError("only the user who opened a modal can submit it")
        inputs = {
            c["custom_id"]: c for c in _components_of(modal["components"]) if c.get("type") == 4
        }
        unknown = set(values) - set(inputs)
        if unknown:
            raise DriverError(f"modal {modal['custom_id']!r} has no inputs {sorted(unknown)}")
        for custom_id, spec in inputs.items():
            text = values.get(custom_id, "")
            if spec.get("required", True) and not text:
                raise DriverError(f"modal input {custom_id!r} is required")
            if text and not spec.get("min_length", 0) <= len(text) <= spec.get("max_length", 4000):
                raise DriverError(f"modal input {custom_id!r} length is outside its bounds")
        rows = []
        for row in modal["components"]:
            if row.get("type") == 18:
                inner = row["component"]
                rows.append({"type": 18, "component": _submitted(inner, values)})
            else:
                rows.append(
                    {
                        "type": 1,
                        "components": [_submitted(c, values) for c in row.get("components", [])],
                    }
                )
        channel = self.fake.world.channels[handle.interaction.channel_id]
        source = handle.interaction.message_id
        message = self.fake.world.messages.get(source) if source is not None else None
        data = {"custom_id": modal["custom_id"], "components": rows}
        return self._start(user, channel, MODAL_SUBMIT, data, message=message)

    # -- reading -----------------------------------------------------------------------------

    def read(self, channel: Channel, as_user: User) -> list[SeenMessage]:
        """The channel or thread as this member sees it, oldest first."""
        return read(self.fake, channel, as_user)

    def render(self, channel: Channel, as_user: User) -> str:
        """The channel as text, for assertion messages."""
        return "\n".join(str(m) for m in self.read(channel, as_user))

    def threads_of(self, channel: Channel) -> list[Channel]:
        """Live threads whose parent is `channel`, oldest first."""
        return [c for c in self.fake.world.channels.values() if c.parent_id == channel.id]

    def webhooks_of(self, channel: Channel) -> list[Webhook]:
        """Webhooks in a channel."""
        return [w for w in self.fake.world.webhooks.values() if w.channel_id == channel.id]


def _components(message: Message) -> list[dict[str, Any]]:
    return walk_components(message.components)


def _components_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return walk_components(rows)


def _submitted(component: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    return {
        "type": component.get("type", 4),
        "custom_id": component.get("custom_id"),
        "value": values.get(component.get("custom_id", ""), ""),
    }
