"""Hostile input: every route of the application fed what an attacker would send.

:func:`sweep` finds the routes through Pyramid's introspector, visits each one
as every :class:`Visitor` (anonymous, a member, an admin...), reads the forms
on the pages it gets, and sends each route and form over-long values, NUL and
other control characters, invalid UTF-8, huge and negative numbers, file parts
where text is expected, repeated and missing fields, hostile placeholders in
the path and hostile headers. POSTs carry the visitor's valid CSRF token, so
they reach the views. It returns every answer that was a 5xx (or an exception
that escaped the application): an empty list is a pass.

The value sets are small on purpose: a sweep of the whole core takes seconds.
Plugin authors get it through the ``hostile_sweep`` fixture of
:mod:`mypages.testing.plugin`.
"""
from __future__ import annotations

import itertools
import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from webtest import TestApp, TestRequest

#: values for one form field at a time, the others keeping their good values: what gets past
#: the checks of the request as a whole and reaches the view (bytes, to send any of them)
FIELD_VALUES: dict[str, bytes] = {
    "over-long": b"a" * 4990 + b"@example.se",
    "line breaks": b"x\r\nSet-Cookie: y=z",
    "beyond int64": b"9" * 20,
    "negative number": b"-1",
    "empty": b"",
    "unicode": "Å😀\u202eß".encode(),
    "superscript digit": "²".encode(),
}
#: values for every field of a form at once: refused for the request as a whole, normally
FORM_VALUES: dict[str, bytes] = {
    "NUL": b"a\x00b",
    "control characters": b"\x01\x08\x1b[2J\x7f",
    "invalid UTF-8": b"\xff\xfe",
    "overlong UTF-8": b"\xc0\xaf",
    "UTF-8 surrogate": b"\xed\xa0\x80",
}
TEXT_VALUES = {**FIELD_VALUES, **FORM_VALUES}
#: for a password field, of the :data:`FIELD_VALUES`: a password is only ever hashed, and
#: each try costs a hash on purpose
PASSWORD_VALUES = ("over-long", "unicode")

#: values for a placeholder of a route pattern, already percent-encoded
PATH_VALUES: dict[str, str] = {
    "invalid UTF-8": "%FF%FE",
    "overlong UTF-8": "%C0%AF",
    "NUL": "%00",
    "huge number": "9" * 40,
    "beyond int64": "9223372036854775808",
    "beyond int32": "2147483648",
    "negative number": "-1",
    "over-long": "a" * 3000,
    "unicode": "%C3%85%F0%9F%98%80",
}

#: query parameters many views read, beside the fields of the page's forms
QUERY_NAMES = ("next", "state", "code", "error", "email", "provider", "protocol", "id", "page",
               "RelayState", "SAMLResponse")

#: headers an attacker controls, sent with a page and with every form once
HOSTILE_HEADERS = {
    "X-Forwarded-For": ", ".join(["203.0.113.9" * 20] * 5),
    "User-Agent": "u" * 5000,
    "Accept-Language": "xx-" + "a" * 3000 + ";q=nope, \x7f;q=-1",
    "Referer": "http://" + "r" * 3000,
}
#: cookies an attacker controls: garbage for the names of the application's cookies
HOSTILE_COOKIES = ("mypages_locale", "mypages_session", "mypages_device")

PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}|\*(\w+)")


@dataclass
class Visitor:
    """Someone visiting the site: ``sign_in`` (None for anonymous) signs ``browser`` in, and is
    called again whenever ``check_path``, a page the signed-in visitor gets with a 200 (and
    their CSRF token), answers otherwise: a form signed them out, say."""

    name: str
    browser: TestApp
    sign_in: Callable[[TestApp], object] | None = None
    check_path: str = "/account"
    #: good values of form fields for this visitor (a password, say), sent beside the one
    #: hostile field, so the hostile value gets past the checks of the others
    good: dict = field(default_factory=dict)


@dataclass
class Failure:
    visitor: str
    method: str
    path: str
    what: str
    status: int | str

    def __str__(self) -> str:
        return f"{self.visitor} {self.method} {self.path[:120]} [{self.what}] -> {self.status}"


@dataclass
class Report:
    """What a sweep did: ``failures`` (5xx answers, or exceptions that escaped the
    application) and how many requests it sent."""

    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    #: how often each status was answered
    statuses: Counter = field(default_factory=Counter)
    #: (visitor, method, path) of every form that was filled in
    forms: set = field(default_factory=set)
    #: what went otherwise than planned (a visitor who could not sign in again...)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    methods: frozenset[str]


@dataclass(frozen=True)
class FoundForm:
    route: str
    method: str
    action: str
    fields: tuple[str, ...]
    baseline: tuple[tuple[str, str], ...]
    passwords: frozenset[str] = frozenset()


def _methods(given) -> set[str]:
    if given is None:
        return {"GET", "POST"}
    return {given} if isinstance(given, str) else set(given)


def routes_of(app, packages: Iterable[str] | None = None) -> list[Route]:
    """Every route with a view, and the methods its views answer; with ``packages``, only
    routes whose views are in one of those packages (a plugin's own routes)."""
    introspector = app.registry.introspector
    packages = tuple(packages) if packages is not None else None
    methods: dict[str, set[str]] = {}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        name = intr["route_name"]
        if name is None:
            continue
        module = getattr(intr["callable"], "__module__", "") or ""
        if packages is not None and not any(module == p or module.startswith(p + ".")
                                            for p in packages):
            continue
        route = introspector.get("routes", name)
        allowed = _methods(intr["request_methods"])
        if route["request_methods"] is not None:
            allowed &= _methods(route["request_methods"])
        methods.setdefault(name, set()).update(allowed & {"GET", "POST"})
    return [Route(name, introspector.get("routes", name)["pattern"], frozenset(found))
            for name, found in sorted(methods.items()) if found]


def fill(pattern: str, values: dict, route: str | None = None, **override) -> str:
    """A path for a route pattern, its placeholders taken from ``values`` (``1`` if missing;
    a ``"route.placeholder"`` key is for that route only)."""
    if route is not None:
        values = {**values, **{key.split(".", 1)[1]: value for key, value in values.items()
                               if key.startswith(route + ".")}}
    values = {**values, **override}
    path = PLACEHOLDER.sub(lambda m: str(values.get(m.group(1) or m.group(2), 1)), pattern)
    return "/" + path.lstrip("/")


def placeholders_of(pattern: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in PLACEHOLDER.finditer(pattern)]


def _route_of(app, path: str) -> str | None:
    for route in app.routes_mapper.get_routes():
        if route.match(path) is not None:
            return route.name
    return None


def send_raw(browser: TestApp, method: str, path: str, body: bytes | None = None,
             content_type: str | None = None, headers: dict | None = None):
    """A request exactly as given (WebTest's ``post`` would re-encode a multipart body), with
    the browser's cookies; any status is an answer."""
    request = TestRequest.blank(path, environ=dict(browser.extra_environ), method=method,
                                headers=headers or {})
    if body is not None:
        request.body = body
        request.content_type = content_type
    return browser.do_request(request, status="*", expect_errors=True)


def _decodable(path: str) -> bool:
    try:
        unquote_to_bytes(urlsplit(path).path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def urlencoded(pairs: Iterable[tuple[str, bytes | str]]) -> bytes:
    return "&".join(f"{quote_from_bytes(name.encode())}="
                    f"{quote_from_bytes(value if isinstance(value, bytes) else value.encode())}"
                    for name, value in pairs).encode("ascii")


def multipart(pairs: Iterable[tuple[str, bytes | str]], files: set[str]) -> tuple[bytes, str]:
    """A multipart/form-data body; the fields named in ``files`` are sent as file parts."""
    boundary = "hostile-boundary-7d1c"
    body = b""
    for name, value in pairs:
        value = value if isinstance(value, bytes) else value.encode()
        disposition = f'form-data; name="{name}"'
        if name in files:
            disposition += '; filename="x.txt"\r\nContent-Type: application/octet-stream'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class _Sweep:
    def __init__(self, app, visitors, placeholders, good, routes, skip):
        self.app = app
        self.visitors = visitors
        self.placeholders = placeholders
        self.good = good
        self.routes = [route for route in routes if route.name not in skip]
        self.names = {route.name for route in self.routes}
        self.report = Report()
        self.token: dict[str, str] = {}
        self.addresses = (f"198.51.100.{n % 250 + 1}" for n in itertools.count())

    # -- sending ---------------------------------------------------------------

    def send(self, visitor: Visitor, method: str, path: str, what: str, body: bytes | None = None,
             content_type: str | None = None, headers: dict | None = None):
        self.report.requests += 1
        headers = dict(headers or {})
        browser = visitor.browser
        if "Cookie" in headers or not _decodable(path):
            # the jar would replace a hostile cookie, and cannot read such a path at all: the
            # cookies go as a header of their own, the hostile ones instead of the jar's
            given = dict(pair.split("=", 1) for pair in headers.get("Cookie", "").split("; ")
                         if "=" in pair)
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in {**browser.cookies, **given}.items())
            browser = TestApp(browser.app, extra_environ=browser.extra_environ)
        try:
            with warnings.catch_warnings():
                # the client's cookie jar cannot file a cookie set for an undecodable path
                warnings.filterwarnings("ignore", "http.cookiejar bug", UserWarning)
                response = send_raw(browser, method, path, body, content_type, headers)
        except Exception as error:  # escaped the application: the server's bare 500
            self.report.failures.append(Failure(visitor.name, method, path, what,
                                                f"raised {type(error).__name__}: {error}"[:300]))
            return None
        self.report.statuses[response.status_int] += 1
        if response.status_int >= 500:
            self.report.failures.append(Failure(visitor.name, method, path, what,
                                                response.status_int))
        return response

    def keep_signed_in(self, visitor: Visitor) -> None:
        """Sign the visitor in again if a form signed them out (an anonymous visitor whom good
        values signed in forgets it), and note their CSRF token, which sign-in changes."""
        if visitor.sign_in is None:
            visitor.browser.reset()
            page = visitor.browser.get("/login", status="*")
        else:
            page = visitor.browser.get(visitor.check_path, status="*")
            if page.status_int != 200:
                # from an address of its own: the sweep's failed sign-ins slowed the last one
                visitor.browser.extra_environ["REMOTE_ADDR"] = next(self.addresses)
                try:
                    visitor.sign_in(visitor.browser)
                except Exception as error:  # a form closed the door (a role, a policy): go on
                    self.report.notes.append(f"{visitor.name} could not sign in again: "
                                             f"{str(error).splitlines()[0][:200]}")
                page = visitor.browser.get(visitor.check_path, status="*")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        self.token[visitor.name] = found.group(1) if found else ""

    def post_form(self, visitor: Visitor, path: str, pairs: list[tuple[str, bytes | str]],
                  what: str, files: Iterable[str] = (), headers=None):
        pairs = [("csrf_token", self.token[visitor.name])] + [
            (name, value) for name, value in pairs if name != "csrf_token"]
        if files:
            body, content_type = multipart(pairs, set(files))
        else:
            body, content_type = urlencoded(pairs), "application/x-www-form-urlencoded"
        return self.send(visitor, "POST", path, what, body, content_type, headers)

    # -- finding ---------------------------------------------------------------

    def forms_on(self, visitor: Visitor, response) -> list[FoundForm]:
        """The forms of a page that go to one of the swept routes, one for each submit button
        that sends a value of its own."""
        if response is None or "html" not in (response.content_type or ""):
            return []
        try:
            forms = response.forms
        except Exception:  # not a page WebTest can read forms from: nothing to learn from it
            return []
        found = []
        good = {**self.good, **visitor.good}
        for form in forms.values():
            action = urlsplit(form.action or response.request.path).path or response.request.path
            route_name = _route_of(self.app, action)
            if route_name not in self.names:
                continue
            names = tuple(sorted({name for name, _f in form.field_order if name}))
            passwords = frozenset(name for name, f in form.field_order
                                  if name and f.attrs.get("type") == "password")
            pairs = form.submit_fields()
            variants = [pairs]
            buttons = [f for name, f in form.field_order if name and type(f).__name__ == "Submit"]
            for button in buttons[1:]:
                variants.append([pair for pair in pairs if pair[0] != button.name]
                                + [(button.name, button.value_if_submitted())])
            for variant in variants:
                # a file input's value is WebTest's File: its form is swept with file parts
                baseline = tuple((name, good.get(name, value if isinstance(value, (str, bytes))
                                                  else "")) for name, value in variant)
                found.append(FoundForm(route_name, (form.method or "GET").upper(), action, names,
                                       baseline, passwords))
        return found

    # -- hostile requests ------------------------------------------------------------

    def hostile_form(self, visitor: Visitor, form: FoundForm) -> None:
        """Each field in turn gets each of :data:`FIELD_VALUES` (a password field those of
        :data:`PASSWORD_VALUES`), the others keeping the form's values; every field at once
        gets each of :data:`FORM_VALUES`; then file parts,
        repeated and missing fields, hostile headers and a JSON body."""
        self.report.forms.add((visitor.name, form.method, form.action))
        baseline = list(form.baseline)
        names = [name for name in form.fields if name != "csrf_token"] or ["q"]
        if form.method == "GET":
            self.send(visitor, "GET", f"{form.action}?{urlencoded(baseline).decode()}", "form")
            for label, value in TEXT_VALUES.items():
                query = urlencoded([(name, value) for name in names]).decode()
                self.send(visitor, "GET", f"{form.action}?{query}", f"form: {label}")
            return
        self.keep_signed_in(visitor)
        for name in names:
            for label, value in FIELD_VALUES.items():
                if name in form.passwords and label not in PASSWORD_VALUES:
                    continue
                self.post_form(visitor, form.action,
                               [(n, v) for n, v in baseline if n != name] + [(name, value)],
                               f"{name}: {label}")
            self.keep_signed_in(visitor)
        for label, value in FORM_VALUES.items():
            self.post_form(visitor, form.action, [(name, value) for name in names],
                           f"every field: {label}")
        self.post_form(visitor, form.action, baseline, "file parts", files=names)
        self.post_form(visitor, form.action, baseline + [(name, "second") for name in names],
                       "repeated fields")
        self.post_form(visitor, form.action, [], "every field missing")
        self.post_form(visitor, form.action, baseline, "hostile headers", headers=HOSTILE_HEADERS)
        self.send(visitor, "POST", form.action, "JSON body",
                  json.dumps({"csrf_token": self.token[visitor.name], **dict(baseline)}).encode(),
                  "application/json")
        self.keep_signed_in(visitor)

    def hostile_route(self, visitor: Visitor, route: Route, names: set[str]) -> None:
        """Hostile headers, cookies and query strings on the route's page, and hostile values
        for each placeholder of its pattern."""
        good_path = fill(route.pattern, self.placeholders, route.name)
        if "POST" in route.methods:
            self.keep_signed_in(visitor)
        if "GET" in route.methods:
            self.send(visitor, "GET", good_path, "hostile headers", headers=HOSTILE_HEADERS)
            self.send(visitor, "GET", good_path, "hostile cookies", headers={"Cookie": "; ".join(
                f"{cookie}=%FF%00{'c' * 4000}" for cookie in HOSTILE_COOKIES)})
            for label, value in TEXT_VALUES.items():
                query = urlencoded([(name, value) for name in sorted(names | set(QUERY_NAMES))])
                self.send(visitor, "GET", f"{good_path}?{query.decode()}", f"query: {label}")
        for placeholder in placeholders_of(route.pattern):
            for label, value in PATH_VALUES.items():
                path = fill(route.pattern, self.placeholders, route.name, **{placeholder: value})
                if "GET" in route.methods:
                    self.send(visitor, "GET", path, f"{{{placeholder}}}: {label}")
                if "POST" in route.methods:
                    self.post_form(visitor, path, [], f"{{{placeholder}}}: {label}")

    def usual_fields(self, visitor: Visitor, route: Route) -> None:
        """A route that takes POSTs but is in no form the sweep saw: the usual names."""
        self.keep_signed_in(visitor)
        path = fill(route.pattern, self.placeholders, route.name)
        for label, value in TEXT_VALUES.items():
            self.post_form(visitor, path, [(name, value) for name in QUERY_NAMES],
                           f"usual fields: {label}")

    def run(self) -> Report:
        for visitor in self.visitors:
            # everyone first, before the sweep's failed sign-ins slow their accounts down
            self.keep_signed_in(visitor)
        # every page as everyone: who reaches it, and the forms they get
        reaches: dict[str, list[Visitor]] = {route.name: [] for route in self.routes}
        forms: dict[tuple, tuple[Visitor, FoundForm]] = {}
        field_names: dict[str, set[str]] = {route.name: set() for route in self.routes}
        for visitor in self.visitors:
            for route in self.routes:
                if "GET" not in route.methods:
                    continue
                response = self.send(visitor, "GET", fill(route.pattern, self.placeholders, route.name),
                                     "page")
                if response is not None and response.status_int < 300:
                    reaches[route.name].append(visitor)
                found = self.forms_on(visitor, response)
                # a form sent by GET (a choice of what the page shows) may show more forms
                for form in [f for f in found if f.method == "GET"]:
                    query = urlencoded(form.baseline).decode()
                    found += self.forms_on(visitor, self.send(
                        visitor, "GET", f"{form.action}?{query}", "form"))
                for form in found:
                    field_names[route.name].update(form.fields)
                    reaches[form.route].append(visitor)
                    # the same form is filled in once as anonymous and once signed in
                    key = (form.action, form.method, form.fields,
                           tuple(n for n, _v in form.baseline), visitor.sign_in is None)
                    forms.setdefault(key, (visitor, form))
        # each route's hostile paths, queries and headers, once, as the first who reaches it
        # (everyone, if no one does)
        for route in self.routes:
            for visitor in reaches[route.name][:1] or self.visitors:
                self.hostile_route(visitor, route, field_names[route.name])
                if "POST" in route.methods and not any(
                        form.route == route.name for _v, form in forms.values()):
                    self.usual_fields(visitor, route)
        # forms last: one of them may sign the visitor out or change what they may do
        for visitor, form in forms.values():
            self.hostile_form(visitor, form)
        return self.report


def sweep(app, visitors: list[Visitor], placeholders: dict | None = None,
          good: dict | None = None, routes: list[Route] | None = None,
          skip: Iterable[str] = ()) -> Report:
    """Send hostile input to ``routes`` (default: every route of ``app``) as each visitor.

    ``placeholders`` gives a good value for each ``{placeholder}`` of the route patterns
    (``company_id``...; a missing one is ``1``); each placeholder is also replaced in turn by
    every one of :data:`PATH_VALUES`. ``good`` gives good values for form fields by name (a
    password, say) to send beside the one hostile field. Routes named in ``skip`` are left
    out. Returns a :class:`Report`; ``report.failures`` lists every 5xx.
    """
    routes = routes if routes is not None else routes_of(app)
    return _Sweep(app, visitors, dict(placeholders or {}), dict(good or {}), routes,
                  set(skip)).run()


__all__ = ["FIELD_VALUES", "FORM_VALUES", "HOSTILE_HEADERS", "PASSWORD_VALUES", "PATH_VALUES",
           "QUERY_NAMES", "TEXT_VALUES", "Failure", "Report", "Route", "Visitor", "fill",
           "multipart", "routes_of", "send_raw", "sweep", "urlencoded"]
