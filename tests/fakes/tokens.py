"""Fly's tokens as fly-go's `tokens/tokens.go` reads them, for the fakes' Authorization checks.

`Parse` strips a `Bearer`/`FlyV1` scheme and splits on commas: `fm1r_`/`fm1a_`/`fm2_` are macaroons,
anything else a user token. `FlapsHeader()`/`BubblegumHeader()` (Machines and logs APIs) are
`FlyV1 <macaroons>` when there are macaroons, else `Bearer <user tokens>`; `GraphQL()` (the
organizations endpoint, `internal/uiex/organizations.go`, always with `Bearer `) is macaroons and user
tokens together; `NATS()` is the macaroons, else the user tokens.
"""

from __future__ import annotations


def parse(token: str) -> tuple[list[str], list[str]]:
    text = token.strip()
    scheme, _, rest = text.partition(" ")
    if rest and scheme.lower() in ("bearer", "flyv1"):
        text = rest.strip()
    macaroons: list[str] = []
    users: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        (macaroons if part.partition("_")[0] in ("fm1r", "fm1a", "fm2") else users).append(part)
    return macaroons, users


def nats(token: str) -> str:
    macaroons, users = parse(token)
    return ",".join(macaroons or users)


def flaps_header(token: str) -> str:
    macaroons, users = parse(token)
    return f"FlyV1 {','.join(macaroons)}" if macaroons else f"Bearer {','.join(users)}"


def graphql(token: str) -> str:
    macaroons, users = parse(token)
    return ",".join(macaroons + users)
