"""Fixtures come from mypages.testing.plugin (the pytest11 entry point)."""
from xdist.scheduler import LoadGroupScheduling


class _BrowserTestsOnOneWorker(LoadGroupScheduling):
    """``--dist loadgroup`` (make test), with every browser test (tests/e2e) in one group,
    so the run starts their servers and Chromium once, on one worker. The group is told by
    the path: pytest-xdist passes ``xdist_group`` marks to its scheduler by rewriting node ids,
    which pytest 9.2 no longer lets it do (pytest-dev/pytest-xdist#1386)."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith("tests/e2e/"):
            return "tests/e2e"
        return super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup":
        return _BrowserTestsOnOneWorker(config, log)
    return None
