from __future__ import annotations

from pathlib import Path

import pytest

from flylogs.errors import ConfigError
from flylogs.settings import (
    DEFAULT_SERVER,
    ColorWhen,
    Flags,
    OutputMode,
    Source,
    StoredCredentials,
    app_from_fly_toml,
    normalize_token,
    redact_token,
    redact_url,
    resolve,
)


def test_defaults(tmp_path: Path) -> None:
    settings = resolve(Flags(), {}, tmp_path)
    assert settings.servers == (DEFAULT_SERVER,)
    assert settings.org == "personal"
    assert settings.token is None
    assert settings.output is OutputMode.AUTO and settings.color is ColorWhen.AUTO
    assert settings.origins["server"].source is Source.DEFAULT
    assert settings.origins["token"].source is Source.NONE
    assert settings.config_path == tmp_path / ".config" / "flylogs" / "config.toml"


def test_flags_beat_env_beat_config_beat_keyring_beat_flyctl(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('server = ["nats://a:1", "nats://b:2"]\norg = "cfg-org"\noutput = "json"\n')
    (tmp_path / ".fly").mkdir()
    (tmp_path / ".fly" / "config.yml").write_text("access_token: flyctl-token\n")
    keyring = lambda: StoredCredentials("kr-org", "kr-token")  # noqa: E731

    s = resolve(Flags(config=config), {}, tmp_path, keyring)
    assert s.servers == ("nats://a:1", "nats://b:2") and s.origins["server"].source is Source.CONFIG
    assert s.org == "cfg-org" and s.token == "kr-token"
    assert s.origins["token"].source is Source.KEYRING
    assert s.output is OutputMode.JSON

    env = {
        "FLYLOGS_SERVER": "nats://e:1, nats://f:2",
        "FLY_ORG": "fly-org",
        "FLY_API_TOKEN": "api",
        "FLY_ACCESS_TOKEN": "acc",
    }
    s = resolve(Flags(config=config), env, tmp_path, keyring)
    assert s.servers == ("nats://e:1", "nats://f:2")
    assert (s.org, s.token) == ("fly-org", "acc")
    assert str(s.origins["token"]) == "env (FLY_ACCESS_TOKEN)"

    env["FLYLOGS_TOKEN"] = "mine"
    env["FLYLOGS_ORG"] = "my-org"
    s = resolve(Flags(config=config), env, tmp_path, keyring)
    assert (s.org, s.token) == ("my-org", "mine")

    s = resolve(
        Flags(servers=("nats://x:1",), org="flag-org", token="Bearer flag", config=config),
        env,
        tmp_path,
        keyring,
    )
    assert (s.servers, s.org, s.token) == (("nats://x:1",), "flag-org", "flag")

    s = resolve(Flags(), {}, tmp_path)
    assert s.token == "flyctl-token" and s.origins["token"].source is Source.FLYCTL


def test_keyring_org_used_when_nothing_else_names_one(tmp_path: Path) -> None:
    s = resolve(Flags(), {}, tmp_path, lambda: StoredCredentials("kr-org", "kr-token"))
    assert s.org == "kr-org" and s.origins["org"].source is Source.KEYRING


def test_keyring_is_not_consulted_when_the_token_is_known(tmp_path: Path) -> None:
    def boom() -> StoredCredentials:
        raise AssertionError("keyring consulted")

    assert resolve(Flags(token="t"), {}, tmp_path, boom).token == "t"


def test_fly_config_dir_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "config.yml").write_text("foo: 1\naccess_token: 'quoted-token'\n")
    assert resolve(Flags(), {"FLY_CONFIG_DIR": str(tmp_path / "elsewhere")}, tmp_path).token == "quoted-token"


def test_xdg_config_home(tmp_path: Path) -> None:
    (tmp_path / "xdg" / "flylogs").mkdir(parents=True)
    (tmp_path / "xdg" / "flylogs" / "config.toml").write_text('org = "xdg-org"\n')
    assert resolve(Flags(), {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path).org == "xdg-org"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("server = ", "not valid TOML"),
        ('token = "x"', "never reads tokens"),
        ('colour = "always"', "unknown key"),
        ("server = 3", "'server' must be"),
        ('output = "yaml"', "output"),
        ('org = ""', "'org' must be"),
    ],
)
def test_invalid_config_files(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        resolve(Flags(config=config), {}, tmp_path)
    assert info.value.hint


def test_explicit_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(Flags(), {"FLYLOGS_CONFIG": str(tmp_path / "missing.toml")}, tmp_path)


@pytest.mark.parametrize(
    ("raw", "token"),
    [
        ("FlyV1 fm2_abc", "fm2_abc"),
        ("Bearer legacy", "legacy"),
        ("  fm2_a,fm1r_b  ", "fm2_a,fm1r_b"),
        ("FlyV1 fm2_a, fm1a_b", "fm2_a,fm1a_b"),
        ("legacy,fm2_a", "fm2_a"),
        ("", None),
        ("Bearer ", None),
        (None, None),
    ],
)
def test_normalize_token(raw: str | None, token: str | None) -> None:
    assert normalize_token(raw) == token


def test_redaction_never_shows_the_secret() -> None:
    assert "secret" not in redact_token("fm2_secretsecret")
    assert redact_token("fm2_secretsecret").startswith("fm2_…")
    assert "legacy" not in redact_token("legacy-token")
    assert redact_token(None) == "none"
    assert redact_url("nats://org:tok@host:4222") == "nats://host:4222"
    assert redact_url("nats://[fdaa::3]:4223") == "nats://[fdaa::3]:4223"


def test_app_from_fly_toml(tmp_path: Path) -> None:
    assert app_from_fly_toml(tmp_path) is None
    (tmp_path / "fly.toml").write_text('app = "restless-moon-8905"\nprimary_region = "lax"\n')
    assert app_from_fly_toml(tmp_path) == "restless-moon-8905"
    (tmp_path / "fly.toml").write_text("app = [broken")
    assert app_from_fly_toml(tmp_path) is None
