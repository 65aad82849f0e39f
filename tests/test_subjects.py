from __future__ import annotations

import pytest

from flylogs.errors import UsageError
from flylogs.subjects import parse_subject, plan_subjects, validate_token


def test_no_filters_follows_the_whole_org() -> None:
    plan = plan_subjects([], [], [])
    assert plan.subjects == ("logs.>",)
    assert not (plan.filter_apps or plan.filter_regions or plan.filter_instances)


@pytest.mark.parametrize(
    ("apps", "regions", "instances", "subjects"),
    [
        (["api"], [], [], ("logs.api.>",)),
        ([], ["iad"], [], ("logs.*.iad.*",)),
        (["api"], ["iad"], [], ("logs.api.iad.*",)),
        (["api"], [], ["4d891d77b05118"], ("logs.api.*.4d891d77b05118",)),
        ([], [], ["4d891d77b05118"], ("logs.*.*.4d891d77b05118",)),
        (["api"], ["iad"], ["4d891d77b05118"], ("logs.api.iad.4d891d77b05118",)),
        (
            ["api", "web"],
            ["iad", "lhr"],
            [],
            ("logs.api.iad.*", "logs.api.lhr.*", "logs.web.iad.*", "logs.web.lhr.*"),
        ),
        (["api", "api"], [], [], ("logs.api.>",)),
    ],
)
def test_narrowest_subjects(
    apps: list[str], regions: list[str], instances: list[str], subjects: tuple[str, ...]
) -> None:
    plan = plan_subjects(apps, regions, instances)
    assert plan.subjects == subjects
    assert not (plan.filter_apps or plan.filter_regions or plan.filter_instances)


def test_too_many_combinations_widen_the_largest_dimension_and_filter_on_the_client() -> None:
    apps = ["a", "b"]
    instances = [f"i{n}" for n in range(40)]
    plan = plan_subjects(apps, ["iad"], instances, limit=32)
    assert plan.subjects == ("logs.a.iad.*", "logs.b.iad.*")
    assert plan.filter_instances and not plan.filter_apps and not plan.filter_regions


@pytest.mark.parametrize("bad", ["my.app", "*", ">", "my app", "tab\there", ""])
def test_bad_tokens_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_token("app", bad)
    assert info.value.hint
    with pytest.raises(UsageError):
        plan_subjects([bad], [], [])


def test_parse_subject() -> None:
    assert parse_subject("logs.api.iad.4d891d77b05118") == ("api", "iad", "4d891d77b05118")
    assert parse_subject("logs.api") == ("api", None, None)
    assert parse_subject("other.api.iad.x") == (None, None, None)
    assert parse_subject("") == (None, None, None)
