"""A running council holds its lease; one whose lease another process took stops here."""

from __future__ import annotations

import asyncio
import logging

from bot.council.models import SessionStatus
from tests.council.conftest import NAMES


async def test_a_council_holds_its_lease_while_it_runs_and_gives_it_up_when_it_ends(harness):
    world, driver = harness.world, harness.driver
    start = await driver.slash(world.host, world.general, "council start", topic="Lease", rounds=1)
    await start.wait_ack()
    session = await harness.wait_running()
    lease = await harness.store.lease(session.id)
    assert lease is not None
    assert lease.owner == harness.bot.manager.leases.owner
    await harness.wait_ended()
    assert await harness.store.lease(session.id) is None


async def test_a_council_whose_lease_another_process_took_over_stops_here_recording_nothing(
    harness, caplog
):
    world, driver, fake = harness.world, harness.driver, harness.fake
    leases = harness.bot.manager.leases
    leases.ttl_s = 0.6
    for name in NAMES:  # the council is mid-round when its lease is lost
        harness.llm.script(f"{name.lower()}-model", reply="late", first_token_delay_s=30)
    start = await driver.slash(world.host, world.general, "council start", topic="Stall")
    await start.wait_ack()
    session = await harness.wait_running()
    await fake.wait_for(lambda: harness.llm.in_flight() == 4, what="round one")
    thread = driver.threads_of(world.general)[0]
    await fake.wait_for(
        lambda: driver.render(thread, world.host).count("thinking") == len(NAMES),
        what="every member shown thinking",
    )
    shown = driver.render(thread, world.host)

    # As if this process had stalled past the lease's expiry and another took it over.
    await harness.store.release_lease(session.id, leases.owner)
    assert await harness.store.take_lease(session.id, "elsewhere.example:1:b", 30)

    with caplog.at_level(logging.INFO, logger="bot"):
        await fake.wait_for(
            lambda: harness.bot.manager.run_for(session.id) is None,
            what="the council to stop here",
        )
        await fake.wait_for(lambda: harness.llm.in_flight() == 0, what="its model calls cancelled")
        await asyncio.sleep(0.3)  # room for anything it would wrongly post or store
    # The process running it now records and shows its replies; this one adds nothing.
    assert await harness.store.replies(session.id) == []
    assert driver.render(thread, world.host) == shown
    said = [r for r in caplog.records if r.name.startswith("bot") and r.levelno >= logging.INFO]
    assert [(r.levelname, r.getMessage()) for r in said] == [
        ("WARNING", f"council {session.id}: another process took its lease over; stopping here")
    ]
    stored = await harness.store.get_session(session.id)
    assert stored.status is SessionStatus.RUNNING
    assert stored.ended_at is None
    assert (await harness.store.lease(session.id)).owner == "elsewhere.example:1:b"
