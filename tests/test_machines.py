"""Fly's Machines API's list of Machines, against the fake: states, regions, process groups, and
errors that name the status but never the token."""

from __future__ import annotations

import pytest

from flylogs.source.machines import MachineInfo, MachinesApiError, MachineStates, parse_machines
from tests.fakes.machines import FakeMachinesApi

TOKEN = "fm2_list-token"


async def test_every_machine_of_every_app_with_its_state_region_and_group() -> None:
    machines = {"shop": {"a1": ("iad", "started")}, "worker": {"w1": ("ams", "stopped")}}
    with FakeMachinesApi({}, TOKEN, machines) as api:
        states = MachineStates(("shop", "worker"), TOKEN, api.url)
        try:
            found = await states.fetch()
        finally:
            await states.close()
    assert found == [
        MachineInfo("shop", "a1", "started", "iad", "app"),
        MachineInfo("worker", "w1", "stopped", "ams", "app"),
    ]
    assert [path for path, _ in api.requests] == ["/v1/apps/shop/machines", "/v1/apps/worker/machines"]
    assert all(auth.endswith(TOKEN) for _, auth in api.requests)


async def test_an_unavailable_or_refusing_api_is_an_error_naming_the_status_not_the_token() -> None:
    with FakeMachinesApi({}, TOKEN, {"shop": {}}) as api:
        api.failing = 1
        states = MachineStates(("shop",), TOKEN, api.url)
        try:
            with pytest.raises(MachinesApiError) as failed:
                await states.fetch()
            assert failed.value.status == 503
            assert await states.fetch() == []  # it answers again
            wrong = MachineStates(("shop",), "fm2_wrong", api.url)
            with pytest.raises(MachinesApiError, match="answered 401") as refused:
                await wrong.fetch()
            await wrong.close()
        finally:
            await states.close()
    assert TOKEN not in str(failed.value) and "fm2_wrong" not in str(refused.value)


def test_entries_without_an_id_or_a_state_are_skipped() -> None:
    document = [{"id": "a1", "state": "started"}, {"id": "", "state": "started"}, {"state": "x"}, "junk",
                {"id": "b2", "state": "stopped", "region": 7, "config": {"metadata": []}}]  # fmt: skip
    assert parse_machines("shop", document) == [
        MachineInfo("shop", "a1", "started"),
        MachineInfo("shop", "b2", "stopped"),
    ]
    with pytest.raises(MachinesApiError, match="unexpected document"):
        parse_machines("shop", {"machines": []})


async def test_a_401_reads_the_token_again_and_the_list_is_asked_once_more() -> None:
    from flylogs.settings.tokens import TokenKeeper

    with FakeMachinesApi({}, TOKEN, {"shop": {"m1": ("iad", "started")}}) as api:
        fresh = [TOKEN]
        keeper = TokenKeeper(TOKEN, reread=lambda: fresh[0])
        states = MachineStates(("shop",), TOKEN, api.url, tokens=keeper)
        try:
            assert [m.id for m in await states.fetch()] == ["m1"]
            api.token = fresh[0] = "fm2_rotated"  # flyctl rotated it; the old one is refused
            assert [m.id for m in await states.fetch()] == ["m1"]
        finally:
            await states.close()
    assert [auth for _, auth in api.requests] == [f"FlyV1 {TOKEN}", f"FlyV1 {TOKEN}", "FlyV1 fm2_rotated"]
