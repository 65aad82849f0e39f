from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flylogs.errors import ConfigError, UsageError
from flylogs.settings.choices import ColorBy, ColorWhen, OutputMode, TimeMode
from flylogs.settings.fly_toml import app_from_fly_toml
from flylogs.settings.origin import Source
from flylogs.settings.resolve import SETTING_FIELDS, Flags, resolve
from flylogs.settings.spec import DEFAULT_SERVER, SPECS
from flylogs.settings.tokens import (
    StoredCredentials,
    normalize_token,
    redact_token,
    redact_url,
    service_token,
    url_password,
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
        ("legacy,fm2_a", "fm2_a,legacy"),  # fly-go keeps both: macaroons first, then user tokens
        ("", None),
        ("Bearer ", None),
        (None, None),
    ],
)
def test_normalize_token(raw: str | None, token: str | None) -> None:
    assert normalize_token(raw) == token


def test_nats_and_the_apis_get_the_macaroons_and_the_agent_every_token() -> None:
    """fly-go `tokens.go`: `NATS()`/`Flaps()` are the macaroons (else the user tokens); `All()` is both."""
    both = normalize_token("FlyV1 fo1_user, fm2_mac")
    assert both == "fm2_mac,fo1_user"
    assert service_token(both) == "fm2_mac"
    assert service_token("fo1_user") == "fo1_user"


def test_redaction_never_shows_the_secret() -> None:
    assert "secret" not in redact_token("fm2_secretsecret")
    assert redact_token("fm2_secretsecret").startswith("fm2_…")
    assert "legacy" not in redact_token("legacy-token")
    assert redact_token(None) == "none"
    assert redact_url("nats://org:tok@host:4222") == "nats://host:4222"
    assert redact_url("nats://[fdaa::3]:4223") == "nats://[fdaa::3]:4223"
    # Without a scheme too, and for any URL flylogs prints (the API's as well).
    assert redact_url("user:SECRET@127.0.0.1:1") == "127.0.0.1:1"
    assert redact_url("https://u:SECRET@api.fly.io/v1?x=1") == "https://api.fly.io/v1?x=1"
    assert redact_url("tls://TOKEN@h:1") == "tls://h:1"
    assert redact_url("https://api.fly.io/a@b") == "https://api.fly.io/a@b"  # '@' in a path is no userinfo
    assert url_password("u:SECRET@h:1") == "SECRET" and url_password("nats://TOKEN@h") == "TOKEN"
    assert url_password("nats://h:1") is None


def test_config_show_never_prints_a_password_in_an_api_url(tmp_path: Path) -> None:
    s = resolve(Flags(), {"FLYLOGS_API_URL": "https://u:SECRET@api.fly.io"}, tmp_path)
    assert s.shown("api_url") == "https://api.fly.io"
    s = resolve(Flags(servers=("u:SECRET@127.0.0.1:1",)), {}, tmp_path)
    assert s.shown("servers") == "127.0.0.1:1"


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({}, {"FLYLOGS_SERVER": ","}, "FLYLOGS_SERVER: no server"),
        ({}, {"FLYLOGS_SERVER": " , "}, "FLYLOGS_SERVER: no server"),
        ({"servers": ("",)}, {}, "--server: an empty server URL"),
        ({"servers": ("::::",)}, {}, "--server: '::::' is not a server URL"),
        ({"servers": ("nats://h:99999",)}, {}, "is not a server URL"),
        ({"servers": ("http://h:1",)}, {}, "the scheme must be one of nats, tls, ws, wss"),
        ({"servers": ("nats://u:SECRET@:1",)}, {}, "'nats://:1' names no host"),
    ],
)
def test_a_server_nats_py_could_not_use_is_a_usage_error(
    tmp_path: Path, flags: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError) as info:
        resolve(Flags(**flags), env, tmp_path)
    assert info.value.message == message or message in info.value.message, info.value.message
    assert "SECRET" not in info.value.message and info.value.hint


def test_a_bad_server_in_the_config_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('server = ["nats://ok:1", "::::"]\n')
    with pytest.raises(ConfigError, match=r"c\.toml: 'server': '::::' is not a server URL"):
        resolve(Flags(config=config), {}, tmp_path)


def test_valid_servers_pass(tmp_path: Path) -> None:
    for url in ("127.0.0.1:4222", "nats://[fdaa::3]:4223", "tls://host", "ws://h:8080", "nats://u:p@h:1"):
        assert resolve(Flags(servers=(url,)), {}, tmp_path).servers == (url,)


def test_app_from_fly_toml(tmp_path: Path) -> None:
    path = tmp_path / "fly.toml"
    assert app_from_fly_toml(path) is None  # no ./fly.toml: no app named here
    with pytest.raises(ConfigError, match="no such file"):
        app_from_fly_toml(path, required=True)  # -c named it: it must be there
    path.write_text('app = "restless-moon-8905"\nprimary_region = "lax"\n')
    assert app_from_fly_toml(path) == "restless-moon-8905"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("app = [broken", "not valid TOML"),
        ('primary_region = "lax"\n', "names no app"),
        ("app = 3\n", "names no app"),
    ],
)
def test_a_broken_fly_toml_is_an_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "fly.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        app_from_fly_toml(path)
    assert str(path) in info.value.message and "--all" in (info.value.hint or "")


def test_every_row_of_the_spec_table_is_a_setting_and_the_reverse() -> None:
    assert sorted(SETTING_FIELDS) == sorted(spec.name for spec in SPECS)
    assert len({spec.flag for spec in SPECS}) == len(SPECS)


def test_every_setting_resolves_from_each_place_with_its_origin(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        'time = "utc"\ncolor-by = "region"\nstall-timeout = 4\nwait = true\nbackfill = false\n'
        'since = "2h"\ncount = 7\napi_url = "http://old.spelling"\n'
    )
    s = resolve(Flags(config=config), {}, tmp_path)
    assert (s.time, s.color_by, s.stall_timeout, s.wait, s.backfill, s.since, s.count) == (
        TimeMode.UTC, ColorBy.REGION, 4, True, False, "2h", 7,
    )  # fmt: skip
    assert s.api_url == "http://old.spelling"  # the key of earlier releases is still read
    assert all(s.origins[name].source is Source.CONFIG for name in ("time", "wait", "count", "api_url"))

    env = {
        "FLYLOGS_TIME": "relative",
        "FLYLOGS_WAIT": "no",
        "FLYLOGS_STALL_TIMEOUT": "2.5",
        "FLYLOGS_COUNT": "3",
    }
    s = resolve(Flags(config=config), env, tmp_path)
    assert (s.time, s.wait, s.stall_timeout, s.count) == (TimeMode.RELATIVE, False, 2.5, 3)
    assert str(s.origins["wait"]) == "env (FLYLOGS_WAIT)"

    s = resolve(Flags(config=config, time=TimeMode.NONE, wait=True, count=1, backfill=True), env, tmp_path)
    assert (s.time, s.wait, s.count, s.backfill) == (TimeMode.NONE, True, 1, True)
    assert str(s.origins["backfill"]) == "flag (--backfill)"

    s = resolve(Flags(), {}, tmp_path)
    assert (s.time, s.color_by, s.stall_timeout, s.wait, s.backfill, s.since, s.count) == (
        None, ColorBy.INSTANCE, 15.0, False, True, None, None,
    )  # fmt: skip
    assert s.origins["stall_timeout"].source is Source.DEFAULT and s.origins["since"].source is Source.NONE


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FLYLOGS_WAIT": "maybe"}, "not true or false"),
        ({"FLYLOGS_STALL_TIMEOUT": "soon"}, "not valid"),
        ({"FLYLOGS_STALL_TIMEOUT": "0.5"}, "below 1"),
        ({"FLYLOGS_OUTPUT": "yaml"}, "not valid"),
    ],
)
def test_invalid_environment_values_name_the_variable(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        resolve(Flags(), env, tmp_path)
    assert next(iter(env)) in info.value.message and info.value.hint
