"""Drive the simulated PVWA with aiobastion, a real CyberArk client (HTTPS only).

Usage: python aiobastion_check.py 127.0.0.1:PORT CA.pem
"""
import asyncio
import sys

import aiobastion


async def main(host: str, ca: str) -> None:
    epv = aiobastion.EPV(serialized={
        "api_host": host,
        "verify": ca,
        "username": "onboard-sim",
        "password": "Sim-Vault-Passw0rd",
        "authtype": "CyberArk",
        "timeout": 30,
        "max_concurrent_tasks": 4,
    })
    await epv.login()
    # aiobastion sends its booleans as the strings "True"/"False".
    created = await epv.user.add(
        "aio-user",
        password="Passw0rd-Aio1",
        personal_details={"firstName": "Aio", "lastName": "Bastion"},
        vault_authorization=["AuditUsers"],
    )
    assert created["username"] == "aio-user", created
    assert await epv.user.exists("aio-user")
    details = await epv.user.details("aio-user")
    assert details["personalDetails"]["firstName"] == "Aio", details
    assert details["vaultAuthorization"] == ["AuditUsers"], details
    assert "aio-user" in await epv.user.list(pattern="aio")
    # Vault groups: the simulator's seeded ones, a member added and removed.
    assert "NOC Operators" in await epv.group.list(), await epv.group.list()
    noc = await epv.group.get_id("NOC Operators")
    await epv.group.add_member(noc, "aio-user")
    assert await epv.user.groups("aio-user") == ["NOC Operators"]
    members = await epv.group.members("NOC Operators")
    assert [m["UserName"] for m in members] == ["aio-user"], members
    await epv.group.del_member(noc, "aio-user")
    assert await epv.user.groups("aio-user") == []
    # Safe members: aiobastion's add (no memberType, which self-hosted PVWA allows), its
    # paginated list, one member's permissions, and the remove.
    assert await epv.safe.exists("NOC-Shared")
    await epv.safe.add_member("NOC-Shared", "aio-user", listAccounts=True, useAccounts=True)
    assert await epv.safe.is_member_of("NOC-Shared", "aio-user")
    perms = await epv.safe.get_permissions("NOC-Shared", "aio-user")
    assert perms["useAccounts"] is True and perms["retrieveAccounts"] is False, perms
    await epv.safe.remove_member("NOC-Shared", "aio-user")
    assert not await epv.safe.is_member_of("NOC-Shared", "aio-user")
    made = await epv.group.add("aio-group", description="made by aiobastion")
    assert made["groupName"] == "aio-group", made
    await epv.group.delete("aio-group")
    assert "aio-group" not in await epv.group.list()
    await epv.user.delete("aio-user")
    assert "aio-user" not in await epv.user.list()
    await epv.logoff()
    print("aiobastion ok")


asyncio.run(main(sys.argv[1], sys.argv[2]))
