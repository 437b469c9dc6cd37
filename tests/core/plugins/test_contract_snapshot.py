"""The plugin contract cannot change unnoticed.

``contract_snapshot.json`` beside this file holds the shape of the contract
(the names of ``mypages.toolkit`` and what each is, every hookspec's
signature and options), the hookspec version it belongs to, and the newest
section of the contract's changelog. The tests fail as soon as the code
differs from it; the snapshot is written again with::

    python tests/core/plugins/test_contract_snapshot.py --update

which refuses unless ``HOOKSPEC_VERSION`` is newer than the last released
version the snapshot records (``released``): the major version for anything
removed or changed, the minor for additions. Until that version is released,
more additions go into it without another bump. docs/plugins/changelog.rst
must start with a section for it. When the core is released::

    python tests/core/plugins/test_contract_snapshot.py --release

records the snapshot's version as released, so the next change bumps again.
"""
from __future__ import annotations

import argparse
import dataclasses
import enum
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mypages import hookspecs, toolkit

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = Path(__file__).with_name("contract_snapshot.json")
CHANGELOG = ROOT / "docs" / "plugins" / "changelog.rst"
UPDATE = "python tests/core/plugins/test_contract_snapshot.py --update"
HOW_TO_CHANGE = f"""\
If you meant to change the plugin contract:
  1. unless HOOKSPEC_VERSION in core/mypages/hookspecs.py is already newer than the last
     released version (the snapshot's "released"), bump it: the major version if anything was
     removed or changed (plugins break), else the minor version (additions only);
  2. have a section for that version at the top of docs/plugins/changelog.rst: what changed,
     and how a plugin moves to it;
  3. write the snapshot again:  {UPDATE}
If you did not mean to, undo the change: plugins rely on every name and signature above."""


# -- what the contract is ---------------------------------------------------------

def _signature(function) -> str:
    """Names, kinds and defaults of the arguments: what callers and implementations rely on
    (annotations are documentation)."""
    signature = inspect.signature(function)
    return str(signature.replace(
        parameters=[parameter.replace(annotation=inspect.Parameter.empty)
                    for parameter in signature.parameters.values()],
        return_annotation=inspect.Signature.empty))


def _members(cls) -> dict:
    """The public methods, properties and class attributes a class of the core defines itself."""
    members = {}
    for name, value in vars(cls).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, property):
            members[name] = "property"
        elif isinstance(value, (classmethod, staticmethod)):
            members[name] = _signature(value.__func__)
        elif inspect.isfunction(value):
            members[name] = _signature(value)
        elif not dataclasses.is_dataclass(cls):  # a dataclass's are its fields
            members[name] = "attribute"
    return members


def describe(value) -> dict:
    """What a plugin relies on in one name of the toolkit."""
    module = getattr(value, "__module__", None) or ""
    if not module.startswith("mypages") or not (inspect.isclass(value) or inspect.isfunction(value)):
        if inspect.isclass(value) or inspect.isfunction(value):
            return {"kind": "external", "is": f"{module}.{value.__qualname__}"}
        return {"kind": "value", "type": type(value).__qualname__}  # the value may change
    if inspect.isfunction(value):
        return {"kind": "function", "signature": _signature(value)}
    if issubclass(value, enum.Enum):
        return {"kind": "enum", "members": [member.name for member in value]}
    if dataclasses.is_dataclass(value):
        return {"kind": "dataclass", "frozen": value.__dataclass_params__.frozen,
                "fields": [f"{field.name}: {field.type}" for field in dataclasses.fields(value)],
                "members": {name: member for name, member in _members(value).items()
                            if name != "__init__"}}
    return {"kind": "class", "bases": [base.__qualname__ for base in value.__bases__],
            "inherits": _inherits(value), "members": _members(value)}


def _inherits(cls) -> list[str]:
    """What ``cls`` is an instance of besides itself: its ancestors up to the first one from
    outside the core (whose own ancestors are that library's business)."""
    inherits = []
    for ancestor in cls.__mro__[1:]:
        inherits.append(ancestor.__qualname__)
        if not ancestor.__module__.startswith("mypages"):
            break
    return inherits


def describe_hookspec(function) -> dict:
    options = function.mypages_spec
    return {
        "signature": _signature(function),
        "firstresult": bool(options.get("firstresult")),
        "historic": bool(options.get("historic")),
        # deprecated: the whole hook, and which arguments
        "warn_on_impl": options.get("warn_on_impl") is not None,
        "warn_on_impl_args": sorted(options.get("warn_on_impl_args") or {}),
    }


def current_contract() -> dict:
    return {
        "toolkit": {name: describe(getattr(toolkit, name)) for name in sorted(toolkit.__all__)},
        "hookspecs": {name: describe_hookspec(function) for name, function
                      in sorted(inspect.getmembers(hookspecs, inspect.isfunction))
                      if hasattr(function, "mypages_spec")},
    }


def current_version() -> str:
    return "{}.{}".format(*hookspecs.HOOKSPEC_VERSION)


def newest_changelog_section(text: str) -> str | None:
    """The title of the changelog's first section: a version, underlined with dashes."""
    match = re.search(r"^(\S[^\n]*)\n-{3,}\s*$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


# -- how it changed --------------------------------------------------------------

def _extends(old, new) -> bool:
    """Whether ``new`` only adds to ``old``: dictionary keys, items at the end of a list."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() <= new.keys() and all(_extends(old[key], new[key]) for key in old)
    if isinstance(old, list) and isinstance(new, list):
        return new[:len(old)] == old
    return old == new


def _arguments(spec: dict) -> set[str]:
    return set(re.findall(r"\w+", spec["signature"].split("->")[0]))


def _optional_appended(before: str, after: str) -> bool:
    """Whether signature ``after`` is ``before`` with parameters that have defaults added at
    its end: every call that worked still does."""
    head = before[:-1]
    # a bare * (keyword-only parameters follow) still lets parameters be appended; *args not
    if not after.startswith(head + ", ") or not before.endswith(")") or re.search(r"\*\w",
                                                                                 before):
        return False
    return all("=" in part or part == "*"
               for part in after[len(head) + 2:-1].split(", "))


def _as_before(before: dict, after: dict) -> dict:
    """``after``, with the bases ``before`` had if the class still inherits from each of
    them: a new base in between (a subclass of the old one) breaks nothing; and with the
    signature ``before`` had if a function only gained parameters with defaults at its end."""
    if (before.get("kind") == after.get("kind") == "class" and before["bases"] != after["bases"]
            and set(before["bases"]) <= set(after.get("inherits", ()))):
        return dict(after, bases=before["bases"])
    if (before.get("kind") == after.get("kind") == "function"
            and _optional_appended(before["signature"], after["signature"])):
        return dict(after, signature=before["signature"])
    if isinstance(before.get("members"), dict) and isinstance(after.get("members"), dict):
        members = {name: (before["members"][name]
                          if isinstance(signature, str)
                          and isinstance(before["members"].get(name), str)
                          and _optional_appended(before["members"][name], signature)
                          else signature)
                   for name, signature in after["members"].items()}
        return dict(after, members=members)
    return after


def changes(old: dict, new: dict) -> tuple[list[str], list[str]]:
    """(additions, breaks) from one contract to another, one sentence each."""
    additions, breaks = [], []
    for name in sorted(old["toolkit"].keys() - new["toolkit"].keys()):
        breaks.append(f"mypages.toolkit.{name} was removed")
    for name in sorted(new["toolkit"].keys() - old["toolkit"].keys()):
        additions.append(f"mypages.toolkit.{name} was added")
    for name in sorted(old["toolkit"].keys() & new["toolkit"].keys()):
        before, after = old["toolkit"][name], new["toolkit"][name]
        if before == after:
            continue
        if _extends(before, _as_before(before, after)):
            additions.append(f"mypages.toolkit.{name} gained: {json.dumps(after)}")
        else:
            breaks.append(f"mypages.toolkit.{name} changed from {json.dumps(before)} "
                          f"to {json.dumps(after)}")
    for name in sorted(old["hookspecs"].keys() - new["hookspecs"].keys()):
        breaks.append(f"the hook {name} was removed")
    for name in sorted(new["hookspecs"].keys() - old["hookspecs"].keys()):
        additions.append(f"the hook {name}{new['hookspecs'][name]['signature']} was added")
    for name in sorted(old["hookspecs"].keys() & new["hookspecs"].keys()):
        before, after = old["hookspecs"][name], new["hookspecs"][name]
        if before == after:
            continue
        removed = _arguments(before) - _arguments(after)
        if removed:
            breaks.append(f"the hook {name} lost the argument(s) {', '.join(sorted(removed))}")
        for flag in ("firstresult", "historic"):
            if before[flag] != after[flag]:
                breaks.append(f"the hook {name} changed {flag} to {after[flag]}")
        if not removed and before["signature"] != after["signature"]:
            # implementations take arguments by name: new ones, in any place, break nothing
            additions.append(f"the hook {name} is now {name}{after['signature']}")
        if (before["warn_on_impl"], before["warn_on_impl_args"]) != (
                after["warn_on_impl"], after["warn_on_impl_args"]):
            additions.append(f"the deprecations of the hook {name} changed")
    return additions, breaks


def difference(snapshot: dict, contract: dict) -> str:
    """The changes from the snapshot to the code, for a failure message."""
    additions, breaks = changes(snapshot["contract"], contract)
    return "\n".join([*(f"  breaks plugins: {line}" for line in breaks),
                      *(f"  adds: {line}" for line in additions)])


class Refused(Exception):
    """The snapshot cannot be written again: the version or the changelog lag behind."""


def _parse(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def released_version(snapshot: dict) -> str:
    """The newest contract version the core was released with, as the snapshot records it;
    a snapshot from before it recorded one counts its own version as released."""
    return snapshot.get("released") or snapshot["hookspec_version"]


def _bump(released: str, breaks: list[str]) -> str:
    major, minor = _parse(released)
    return f"{major + 1}.0" if breaks else f"{major}.{minor + 1}"


def updated_snapshot(old: dict, contract: dict, version: str, changelog: str | None) -> dict:
    """The snapshot for ``contract`` at ``version``, if ``old`` may become it; else
    :class:`Refused` says what to do first.

    Changes are judged against the last released version (``released``): a version newer
    than it takes any number of additions until it is released itself; removing or changing
    anything needs a major version newer than the released one's."""
    released = released_version(old)
    if changelog != version:
        raise Refused(f"docs/plugins/changelog.rst starts with the section {changelog!r}, not "
                      f"with one for HOOKSPEC_VERSION {version}: add a section titled {version} "
                      f"at its top (what changed, and how a plugin moves to it)")
    if _parse(version) < _parse(old["hookspec_version"]):
        raise Refused(f"HOOKSPEC_VERSION {version} is older than the snapshot's "
                      f"{old['hookspec_version']}")
    if contract != old["contract"]:
        additions, breaks = changes(old["contract"], contract)
        listed = difference(old, contract)
        if _parse(version) <= _parse(released):
            raise Refused(f"the contract changed, but HOOKSPEC_VERSION is still {version}, "
                          f"which was released:\n{listed}\nbump it to "
                          f"{_bump(released, breaks)} and say so in docs/plugins/changelog.rst")
        if breaks and _parse(version)[0] <= _parse(released)[0]:
            raise Refused(f"these changes break plugins written for {released} (the last "
                          f"release), so the major version must change (to "
                          f"{_bump(released, breaks)}), not only the minor:\n{listed}")
    return {"hookspec_version": version, "released": released, "changelog": changelog,
            "contract": contract}


def released_snapshot(old: dict, contract: dict) -> dict:
    """``old`` with its version recorded as released (``--release``), if it is the code's."""
    if contract != old["contract"]:
        raise Refused(f"the snapshot differs from the code:\n{difference(old, contract)}\n"
                      f"write it first ({UPDATE})")
    return dict(old, released=old["hookspec_version"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check or write the plugin-contract snapshot.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--update", action="store_true", help="write the snapshot again")
    action.add_argument("--release", action="store_true",
                        help="record the snapshot's version as released (when the core is)")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    args = parser.parse_args(argv)
    contract, version = current_contract(), current_version()
    if not args.snapshot.exists():  # the first one
        old = {"hookspec_version": version, "changelog": None, "contract": contract}
    else:
        old = json.loads(args.snapshot.read_text())
    if not (args.update or args.release):
        print(difference(old, contract) or "the contract matches the snapshot")
        return 0
    try:
        new = (released_snapshot(old, contract) if args.release else
               updated_snapshot(old, contract, version,
                                newest_changelog_section(args.changelog.read_text())))
    except Refused as refused:
        print(f"not written: {refused}", file=sys.stderr)
        return 1
    if new == old:
        print(f"{args.snapshot} is up to date")
        return 0
    args.snapshot.write_text(json.dumps(new, indent=2) + "\n")
    print(f"{args.snapshot} written for hookspec {new['hookspec_version']} "
          f"(last released: {new['released']})")
    return 0


# -- the tests ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())


def test_the_contract_matches_the_snapshot(snapshot):
    contract = current_contract()
    if contract != snapshot["contract"]:
        pytest.fail(f"The plugin contract differs from {SNAPSHOT.name} "
                    f"(hookspec {snapshot['hookspec_version']}):\n"
                    f"{difference(snapshot, contract)}\n\n{HOW_TO_CHANGE}", pytrace=False)


def test_the_snapshot_is_of_this_hookspec_version_and_the_newest_changelog_section(snapshot):
    changelog = newest_changelog_section(CHANGELOG.read_text())
    found = (snapshot["hookspec_version"], snapshot["changelog"])
    if found != (current_version(), changelog):
        pytest.fail(f"HOOKSPEC_VERSION is {current_version()} and docs/plugins/changelog.rst "
                    f"starts with {changelog!r}, but {SNAPSHOT.name} was written for hookspec "
                    f"{found[0]} and the changelog section {found[1]!r}.\n\n{HOW_TO_CHANGE}",
                    pytrace=False)


def test_the_changelog_is_part_of_the_plugin_author_guide():
    toctree = (ROOT / "docs" / "plugins" / "index.rst").read_text()
    assert re.search(r"^\s+changelog\s*$", toctree, re.MULTILINE)


# -- the rules of --update, on made-up contracts ------------------------------------

BASE = {
    "toolkit": {"Module": {"kind": "dataclass", "frozen": True, "fields": ["key: str"],
                           "members": {}},
                "hookimpl": {"kind": "value", "type": "HookimplMarker"},
                "settings": {"kind": "function", "signature": "(request, key)"},
                "Api": {"kind": "class", "bases": ["object"],
                        "members": {"add": "(self, path, *, scope)"}}},
    "hookspecs": {"mypages_cards": {"signature": "(request, company)", "firstresult": False,
                                    "historic": False, "warn_on_impl": False,
                                    "warn_on_impl_args": []}},
}


def changed(**edits) -> dict:
    contract = json.loads(json.dumps(BASE))
    for path, value in edits.items():
        *parents, last = path.split("__")
        target = contract
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return contract


def snapshot_of(contract, version="2.0", released=None) -> dict:
    return {"hookspec_version": version, "released": released or version, "changelog": version,
            "contract": contract}


ADDITIONS = {
    "a toolkit name": changed(toolkit__HttpClient={"kind": "class", "bases": ["object"],
                                                   "members": {}}),
    "a record field at the end": changed(toolkit__Module__fields=["key: str", "title: str"]),
    "a hook": changed(hookspecs__mypages_tabs=BASE["hookspecs"]["mypages_cards"]),
    "a hook argument": changed(hookspecs__mypages_cards__signature="(context, request, company)"),
    "a deprecation": changed(hookspecs__mypages_cards__warn_on_impl_args=["request"]),
    "a parameter with a default at the end": changed(
        toolkit__settings__signature="(request, key, company_id=None, *, strict=False)"),
    "a method's keyword parameter with a default at the end": changed(
        toolkit__Api__members={"add": "(self, path, *, scope, media_type='json')"}),
}
BREAKS = {
    "a toolkit name removed": changed(toolkit__hookimpl=None),
    "a record field removed": changed(toolkit__Module__fields=[]),
    "a hook removed": changed(hookspecs__mypages_cards=None),
    "a hook argument removed": changed(hookspecs__mypages_cards__signature="(company)"),
    "firstresult switched": changed(hookspecs__mypages_cards__firstresult=True),
    "a parameter without a default": changed(toolkit__settings__signature="(request, key, x)"),
    "a parameter renamed": changed(toolkit__settings__signature="(where, key)"),
    "a parameter put first": changed(toolkit__settings__signature="(x=None, request, key)"),
    "a method's parameter without a default": changed(
        toolkit__Api__members={"add": "(self, path, *, scope, media_type)"}),
}


@pytest.mark.parametrize("contract", [*ADDITIONS.values(), *BREAKS.values()],
                         ids=[*ADDITIONS, *BREAKS])
def test_a_changed_contract_is_not_written_without_a_version_bump(contract):
    with pytest.raises(Refused, match="the contract changed, but HOOKSPEC_VERSION is still 2.0"):
        updated_snapshot(snapshot_of(BASE), contract, "2.0", "2.0")


@pytest.mark.parametrize("contract", ADDITIONS.values(), ids=ADDITIONS)
def test_an_addition_is_written_with_a_minor_bump_and_its_changelog_section(contract):
    assert updated_snapshot(snapshot_of(BASE), contract, "2.1", "2.1") == snapshot_of(
        contract, "2.1", released="2.0")
    with pytest.raises(Refused, match="add a section titled 2.1"):
        updated_snapshot(snapshot_of(BASE), contract, "2.1", "2.0")


def with_class(**description) -> dict:
    contract = json.loads(json.dumps(BASE))
    contract["toolkit"]["Refused"] = {"kind": "class", "members": {}, **description}
    return contract


def test_a_new_base_in_between_is_an_addition_and_another_base_a_break():
    """A class that still inherits from its old base breaks nothing: ``except OldBase`` and
    ``isinstance`` still hold."""
    old = snapshot_of(with_class(bases=["Exception"]))
    in_between = with_class(bases=["Refusal"], inherits=["Refusal", "Exception"])
    assert changes(old["contract"], in_between)[1] == []
    assert updated_snapshot(old, in_between, "2.1", "2.1") == snapshot_of(in_between, "2.1",
                                                                           released="2.0")
    elsewhere = with_class(bases=["Refusal"], inherits=["Refusal", "ValueError"])
    assert changes(old["contract"], elsewhere)[1]
    with pytest.raises(Refused, match=r"the major version must change \(to 3.0\)"):
        updated_snapshot(old, elsewhere, "2.1", "2.1")


def test_a_method_that_gains_optional_keywords_at_its_end_is_an_addition():
    def builder(add):
        return {"toolkit": {"Builder": {"kind": "dataclass", "members": {"add": add}}},
                "hookspecs": {}}
    old = builder("(self, path, *, scope, tags=())")
    assert changes(old, builder("(self, path, *, scope, tags=(), parameters=())"))[1] == []
    assert changes(old, builder("(self, path, *, scope, parameters, tags=())"))[1]
    assert changes(old, builder("(self, path, *, scope, tags=(), parameters)"))[1]


@pytest.mark.parametrize("contract", BREAKS.values(), ids=BREAKS)
def test_a_break_needs_a_major_bump(contract):
    with pytest.raises(Refused, match=r"the major version must change \(to 3.0\)"):
        updated_snapshot(snapshot_of(BASE), contract, "2.1", "2.1")
    assert updated_snapshot(snapshot_of(BASE), contract, "3.0", "3.0") == snapshot_of(
        contract, "3.0", released="2.0")


@pytest.mark.parametrize("contract", ADDITIONS.values(), ids=ADDITIONS)
def test_more_additions_go_into_a_version_not_released_yet(contract):
    """2.1 is bumped but not released: another addition needs no 2.2."""
    unreleased = snapshot_of(BASE, "2.1", released="2.0")
    assert updated_snapshot(unreleased, contract, "2.1", "2.1") == snapshot_of(
        contract, "2.1", released="2.0")


@pytest.mark.parametrize("contract", BREAKS.values(), ids=BREAKS)
def test_a_break_in_a_minor_version_not_released_yet_still_needs_a_major_bump(contract):
    unreleased = snapshot_of(BASE, "2.1", released="2.0")
    with pytest.raises(Refused, match=r"break plugins written for 2.0 \(the last release\), so "
                                      r"the major version must change \(to 3.0\)"):
        updated_snapshot(unreleased, contract, "2.1", "2.1")
    assert updated_snapshot(unreleased, contract, "3.0", "3.0") == snapshot_of(
        contract, "3.0", released="2.0")
    # and once 3.0 is bumped, more breaks go into it until it is released
    assert updated_snapshot(snapshot_of(BASE, "3.0", released="2.0"), contract, "3.0",
                            "3.0") == snapshot_of(contract, "3.0", released="2.0")


def test_once_released_the_next_addition_needs_a_bump_again():
    addition = ADDITIONS["a hook"]
    released = released_snapshot(snapshot_of(BASE, "2.1", released="2.0"), BASE)
    assert released == snapshot_of(BASE, "2.1", released="2.1")
    with pytest.raises(Refused, match=r"HOOKSPEC_VERSION is still 2.1, which was released:\n"
                                      r"  adds: the hook mypages_tabs.*\nbump it to 2.2"):
        updated_snapshot(released, addition, "2.1", "2.1")
    with pytest.raises(Refused, match="the snapshot differs from the code"):
        released_snapshot(snapshot_of(BASE, "2.1", released="2.0"), addition)


def test_the_snapshot_records_a_released_version_not_newer_than_its_own(snapshot):
    assert _parse(released_version(snapshot)) <= _parse(snapshot["hookspec_version"])


def test_the_one_liner_refuses_then_writes_the_snapshot(tmp_path):
    """What the failure message tells a developer to run, run as they would run it."""
    version = current_version()
    older = {"hookspec_version": version, "changelog": version, "contract": current_contract()}
    del older["contract"]["toolkit"]["utcnow"]  # as if utcnow had just been added
    stale = tmp_path / "snapshot.json"
    stale.write_text(json.dumps(older))
    changelog = tmp_path / "changelog.rst"
    changelog.write_text(f"Changes\n=======\n\n{version}\n---\n\n* utcnow\n")

    def run():
        return subprocess.run([sys.executable, *UPDATE.split()[1:], "--snapshot", str(stale),
                               "--changelog", str(changelog)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)

    refused = run()
    assert refused.returncode == 1
    assert f"HOOKSPEC_VERSION is still {version}" in refused.stderr
    assert "adds: mypages.toolkit.utcnow was added" in refused.stderr

    # as if the code's version had been bumped already, and not released
    older["released"] = f"{hookspecs.HOOKSPEC_VERSION[0] - 1}.9"
    stale.write_text(json.dumps(older))
    written = run()
    assert written.returncode == 0, written.stderr
    assert json.loads(stale.read_text()) == {"hookspec_version": version,
                                             "released": older["released"],
                                             "changelog": version,
                                             "contract": current_contract()}

    released = subprocess.run([sys.executable, *UPDATE.split()[1:-1], "--release", "--snapshot",
                               str(stale)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert released.returncode == 0, released.stderr
    assert json.loads(stale.read_text())["released"] == version


if __name__ == "__main__":
    sys.exit(main())
