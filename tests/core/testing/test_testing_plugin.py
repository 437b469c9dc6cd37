"""The pytest plugin's own parts that tests lean on for speed: the one-database marker, the
clock, and the run-wide DNS server."""
import datetime as dt
import socket
import textwrap
import time

import dns.message
import dns.query
import dns.rcode

from mypages.db import utcnow
from mypages.testing.dns import DnsServer

pytest_plugins = ["pytester"]


def test_only_database_runs_a_test_on_that_database_and_needs_a_reason(pytester):
    pytester.makepyfile(test_marked=textwrap.dedent("""\
        import pytest

        @pytest.mark.only_database("sqlite", reason="SQLite's own locking")
        def test_one(mypages_db_kind):
            assert mypages_db_kind == "sqlite"

        def test_both(mypages_db_kind):
            pass
        """))

    run = pytester.runpytest("-v", "-p", "no:cacheprovider")

    run.assert_outcomes(passed=3)
    run.stdout.fnmatch_lines(["*test_one[[]sqlite[]] PASSED*"])
    assert "test_one[postgresql]" not in run.stdout.str()

    pytester.makepyfile(test_marked=textwrap.dedent("""\
        import pytest

        @pytest.mark.only_database("sqlite")
        def test_one(mypages_db_kind):
            pass
        """))

    refused = pytester.runpytest("-p", "no:cacheprovider")

    assert refused.ret != 0
    refused.stdout.fnmatch_lines(["*only_database needs one of sqlite, postgresql and a reason*"])


def test_the_clock_moves_wall_time_for_the_test_and_the_app_but_not_timeouts(clock):
    wall, app_time, monotonic = time.time(), utcnow(), time.monotonic()

    clock.shift(3600)

    assert 3600 <= time.time() - wall < 3660
    assert dt.timedelta(hours=1) <= utcnow() - app_time < dt.timedelta(minutes=61)
    assert time.monotonic() - monotonic < 60


def ask(server: DnsServer, name: str):
    query = dns.message.make_query(name, "TXT")
    return dns.query.udp(query, server.host, port=server.port, timeout=2)


def test_a_stopped_dns_server_starts_again_on_its_port():
    server = DnsServer().start()
    try:
        port = server.port
        server.add_txt("example.se", "hello")
        server.stop()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            assert probe.connect_ex((server.host, port)) != 0  # down: nothing listens

        server.start()

        assert server.port == port
        assert [str(rr) for rr in ask(server, "example.se").answer[0]] == ['"hello"']
    finally:
        server.stop()


def test_each_test_gets_the_run_wide_servers_empty_and_the_dns_server_running(
        mypages_dns_server, mypages_smtp_server, request):
    mypages_dns_server.add_txt("left.example", "by an earlier test")
    mypages_dns_server.failing = True
    mypages_dns_server.stop()
    mypages_smtp_server.messages.append("left by an earlier test")

    dns_server = request.getfixturevalue("dns_server")
    smtp_server = request.getfixturevalue("smtp_server")

    assert dns_server is mypages_dns_server and smtp_server is mypages_smtp_server
    assert dns_server.running and not dns_server.failing
    assert (dns_server.records, dns_server.queries) == ({}, [])
    assert ask(dns_server, "left.example").rcode() == dns.rcode.NXDOMAIN
    assert smtp_server.messages == []


def test_a_conftest_overriding_the_settings_gets_an_app_of_its_own_in_the_same_run(pytester):
    """Whichever test of a worker comes first, the core's or a conftest's that overrides
    ``mypages_settings`` (as the plugin-author guide says to), each gets its own app."""
    pytester.makeconftest(textwrap.dedent("""\
        def enabled(app):
            return {info.name for info in app.registry["plugins.found"] if info.enabled}
        """))
    pytester.makepyfile(test_a_core=textwrap.dedent("""\
        from conftest import enabled

        def test_the_core_app_has_every_plugin(app):
            assert "notes" in enabled(app)
        """))
    alone = pytester.mkpydir("test_b_alone")
    (alone / "conftest.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.fixture(scope="session")
        def mypages_settings(mypages_settings):
            return {**mypages_settings, "mypages.plugins.allow": "devtools"}
        """))
    (alone / "test_alone.py").write_text(textwrap.dedent("""\
        from conftest import enabled

        def test_the_overriding_app_has_its_plugin_alone(app, mail_app, dns_app):
            for built in (app, mail_app, dns_app):
                assert enabled(built) == {"devtools"}
        """))

    for order in (["test_a_core.py", "test_b_alone"], ["test_b_alone", "test_a_core.py"]):
        # a process each: an in-process run would import the plugins' models twice
        run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mypages-db=sqlite",
                                            *order)
        run.assert_outcomes(passed=2)
