"""``python -m bench load``: reliability under load, on PostgreSQL, while processes die.

A throwaway PostgreSQL (mypages.testing.postgres), the portal under gunicorn (2 sync
workers) and two job workers (``mypages jobs worker``), all on 127.0.0.1. Client threads,
each the admin of a company of its own, send mixed traffic for ``BENCH_LOAD_SECONDS``
(60): sign-ins, page views, modules bought and deactivated in the browser (each purchase
queues a receipt e-mail job), and REST API calls (reads, a trial started and a module
deactivated). A third of the way in one gunicorn worker is killed with SIGKILL (gunicorn
starts another); half way one job worker is killed with SIGKILL and started again.

Afterwards, once the job queue has drained, it counts and checks:

* no answer was a 5xx (requests cut off by the killed worker are counted apart);
* no job run twice: each receipt went out once (one e-mail file per order), and each
  security alert was raised once per event;
* no job lost: every queued job finished without error, every order a client saw made has
  its receipt, every admin sign-in from a new browser its alert;
* an audit event (with the answer's ``X-Request-Id``) for every change a client saw
  succeed;
* ``mypages audit verify`` passes.

It prints the counts and exits 1 if a check failed. It stops by itself and stops only the
processes it started, by their pids.
"""
from __future__ import annotations

import email
import io
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import httpx
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bench.measure import log
from bench.servers import Server, free_port
from mypages.api.models import ApiToken
from mypages.api.tokens import hash_secret
from mypages.audit.models import AuditChain, AuditEvent
from mypages.db import engine_from_url, utcnow
from mypages.governance.models import AuditWatch, SecurityAlert
from mypages.jobs import LEASE
from mypages.jobs.models import QueuedJob
from mypages.modules.models import ModuleActivation, ModuleState, Order
from mypages.testing.factories import make_company, make_user
from mypages.testing.postgres import ThrowawayPostgres

try:  # uploads only where the OCR plugin (and its Pillow) is installed
    from mypages_ocr.models import Document
    from PIL import Image, ImageDraw, ImageFont
except ImportError:
    Document = None

REPO = Path(__file__).resolve().parent.parent
MYPAGES = Path(sys.executable).with_name("mypages")
PASSWORD = "load test password long enough"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ORDER = re.compile(r"/orders/(\d+)")
RECEIPT = re.compile(r"Order number: (\d+)")
WEB_MODULE, API_MODULE = "notes", "rates"
#: uploads are part of the traffic where the OCR plugin is installed
OCR = Document is not None
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def scanned_invoice() -> bytes:
    """A small PNG with a few lines of text, as a scanner makes them."""
    image = Image.new("RGB", (600, 200), "white")
    pen, font = ImageDraw.Draw(image), ImageFont.truetype(FONT, 22)
    lines = ("Faktura 1024", "Belopp 1 250,00 kr", "Förfallodag 2026-12-31")
    for number, line in enumerate(lines):
        pen.text((30, 30 + 45 * number), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()

INI = """\
[app:main]
use = egg:mypages
mypages.environment = test
mypages.secret = load-test-secret-not-for-production-xxxxxxxxxxxxxxxx
mypages.dev_features = false
mypages.session.secure = false
mypages.jobs.in_process = false
sqlalchemy.url = {database}
sqlalchemy.pool_size = 5
mypages.mail.directory = {mail}
pyramid.reload_templates = false
pyramid.default_locale_name = en
# the OWASP floor of argon2id: sign-ins cost what they cost, but not the whole machine
mypages.passwords.argon2_memory_cost = 19456
mypages.passwords.argon2_time_cost = 2
mypages.passwords.argon2_parallelism = 1
mypages.api.rate_limit_per_token = 100000000/minute
mypages.api.rate_limit_per_address = 100000000/minute

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARN
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""


@dataclass
class Tally:
    """What the clients saw, shared by their threads (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    cut_off: int = 0
    #: (request id, audit action) of every change a client saw succeed
    changes: list = field(default_factory=list)
    orders: set = field(default_factory=set)
    server_errors: list = field(default_factory=list)
    #: (kind, status) of every answer that refused (4xx)
    refused: Counter = field(default_factory=Counter)

    def saw(self, kind: str, answer: httpx.Response) -> None:
        with self.lock:
            self.kinds[kind] += 1
            self.statuses[answer.status_code // 100 * 100] += 1
            if 400 <= answer.status_code < 500:
                self.refused[f"{kind} {answer.request.method} {answer.status_code}"] += 1
            if answer.status_code >= 500:
                self.server_errors.append(f"{kind}: {answer.status_code} "
                                          f"{answer.request.url.path}")

    def changed(self, answer: httpx.Response, action: str) -> None:
        with self.lock:
            self.changes.append((answer.headers.get("X-Request-Id", ""), action))


@dataclass
class Admin:
    company_id: int
    email: str
    token: str


def seed(database_url: str, clients: int) -> list[Admin]:
    """A company per client, its admin (English), and an API token of the company's."""
    engine = engine_from_url(database_url)
    admins = []
    with Session(engine) as session, session.begin():
        for number in range(clients):
            company = make_company(session, f"Load {number} AB")
            user = make_user(session, f"load{number}@example.se", password=PASSWORD,
                             company=company, role="admin", locale="en",
                             display_name=f"Load Admin {number}")
            secret = secrets.token_urlsafe(32)
            token = ApiToken(company_id=company.id, name="load", created_by_id=user.id,
                             scopes=["company:read", "modules:read", "modules:write", "audit:read"],
                             secret_hash=hash_secret(secret), created_at=utcnow(),
                             expires_at=utcnow().replace(year=utcnow().year + 1))
            session.add(token)
            if OCR:
                session.add(ModuleActivation(company_id=company.id, module_key="ocr",
                                             state=ModuleState.active, purchased_at=utcnow(),
                                             updated_at=utcnow()))
            session.flush()
            admins.append(Admin(company.id, user.email, f"mp_{token.id}_{secret}"))
    engine.dispose()
    return admins


class Client(threading.Thread):
    """One admin's browser and program, until ``stop`` is set."""

    def __init__(self, url: str, admin: Admin, tally: Tally, stop: threading.Event, seed_: int,
                 document: bytes | None):
        super().__init__(daemon=True)
        self.document = document
        self.url, self.admin, self.tally, self.stop = url, admin, tally, stop
        self.random = random.Random(seed_)
        self.browser: httpx.Client | None = None
        self.owned = False  # whether the company has the web module right now
        self.api_trial = False

    def send(self, kind: str, method: str, path: str, client: httpx.Client | None = None,
             **kw) -> httpx.Response | None:
        try:
            answer = (client or self.browser).request(method, path, **kw)
        except httpx.TransportError:
            with self.tally.lock:  # the killed worker's request: no answer at all
                self.tally.cut_off += 1
            return None
        self.tally.saw(kind, answer)
        return answer

    def token(self, path: str) -> str | None:
        page = self.send("page view", "GET", path)
        found = CSRF.search(page.text) if page is not None and page.status_code == 200 else None
        return found.group(1) if found else None

    def sign_in(self) -> None:
        if self.browser is not None:
            self.browser.close()
        # a fresh browser every time: the sign-in is from a new device
        self.browser = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        csrf = self.token("/login")
        if csrf is None:
            return
        done = self.send("sign-in", "POST", "/login", data={
            "email": self.admin.email, "password": PASSWORD, "csrf_token": csrf, "next": ""})
        if done is not None and done.status_code == 303:
            self.tally.changed(done, "account.signed_in")

    def module_change(self) -> None:
        base = f"/c/{self.admin.company_id}/settings/modules"
        csrf = self.token(base)
        if csrf is None:
            return
        action = "deactivate" if self.owned else "buy"
        done = self.send("module change", "POST", f"{base}/{WEB_MODULE}/{action}",
                         data={"csrf_token": csrf})
        if done is None or done.status_code != 303:
            return
        location = done.headers.get("location", "")
        if action == "buy":
            order = ORDER.search(location)
            if order is None:  # refused: shown on the modules page
                return
            with self.tally.lock:
                self.tally.orders.add(int(order.group(1)))
            self.tally.changed(done, "module.purchased")
            self.owned = True
        else:
            self.tally.changed(done, "module.deactivated")
            self.owned = False

    def api_call(self) -> None:
        program = httpx.Client(base_url=self.url, timeout=30,
                               headers={"Authorization": f"Bearer {self.admin.token}"})
        with program:
            if not self.api_trial and self.random.random() < 0.2:
                done = self.send("API call", "POST", f"/api/v1/modules/{API_MODULE}/trial",
                                 client=program)
                if done is not None and done.status_code == 200:
                    self.tally.changed(done, "module.trial_started")
                    self.api_trial = True
                    done = self.send("API call", "POST",
                                     f"/api/v1/modules/{API_MODULE}/deactivate", client=program)
                    if done is not None and done.status_code == 200:
                        self.tally.changed(done, "module.deactivated")
                return
            path = self.random.choice(["/api/v1/modules", "/api/v1/audit-events?limit=20",
                                       "/api/v1/company"])
            self.send("API call", "GET", path, client=program)

    def upload(self) -> None:
        documents = f"/c/{self.admin.company_id}/documents"
        csrf = self.token(documents)
        if csrf is None:
            return
        done = self.send("upload", "POST", documents, data={"csrf_token": csrf,
                                                            "kind": "invoice"},
                         files={"file": ("faktura.png", self.document, "image/png")})
        if done is not None and done.status_code == 303:
            self.tally.changed(done, "ocr.document_uploaded")

    def run(self) -> None:
        self.sign_in()
        company = f"/c/{self.admin.company_id}"
        while not self.stop.is_set():
            roll = self.random.random()
            if roll < 0.06:
                self.sign_in()
            elif roll < 0.30:
                self.module_change()
            elif roll < 0.55:
                self.api_call()
            elif roll < 0.62 and self.document is not None:
                self.upload()
            else:
                self.send("page view", "GET", self.random.choice([
                    f"{company}/", f"{company}/settings/modules", f"{company}/settings/audit",
                    f"{company}/settings/billing", "/notifications", "/account"]))
        if self.browser is not None:
            self.browser.close()


class JobWorker:
    """``mypages jobs worker``, started and killed by its pid."""

    def __init__(self, ini: Path, log_path: Path, env: dict):
        self.ini, self.log_path, self.env = ini, log_path, env
        self.process: subprocess.Popen | None = None

    def start(self) -> "JobWorker":
        with self.log_path.open("a") as out:
            self.process = subprocess.Popen([str(MYPAGES), "-c", str(self.ini), "jobs", "worker",
                                             "--poll", "1"], stdout=out, stderr=out,
                                            env=self.env, cwd=REPO)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def gunicorn_workers(master: subprocess.Popen) -> list[int]:
    """The pids of the gunicorn master's children."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def drain(engine, deadline: float) -> int:
    """Wait until no queued job is unfinished (a job the killed worker held waits for its
    lease to end); how many are left at the deadline."""
    while True:
        with Session(engine) as session:
            left = session.scalar(select(func.count()).select_from(QueuedJob)
                                  .where(QueuedJob.finished_at.is_(None)))
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1)


def caught_up(engine, deadline: float) -> int:
    """Wait until the watch over the audit trail has read every chain to its head (it reads
    every 30 seconds); how many chains it is behind on at the deadline."""
    while True:
        with Session(engine) as session:
            behind = session.scalar(
                select(func.count()).select_from(AuditChain)
                .outerjoin(AuditWatch, AuditWatch.chain_id == AuditChain.chain_id)
                .where(or_(AuditWatch.chain_id.is_(None),
                           AuditChain.last_seq > AuditWatch.watched_seq)))
        if behind == 0 or time.monotonic() > deadline:
            return behind
        time.sleep(1)


def receipts(mail: Path) -> Counter:
    """Order number -> receipt e-mails written for it."""
    counts = Counter()
    for path in mail.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found = RECEIPT.search(message.get_body(("plain",)).get_content())
        if found:
            counts[int(found.group(1))] += 1
    return counts


def check(engine, tally: Tally, mail: Path, ini: Path, env: dict, behind: int) -> dict:
    with Session(engine) as session:
        jobs = session.execute(select(QueuedJob.name, QueuedJob.finished_at, QueuedJob.last_error,
                                      QueuedJob.attempts, QueuedJob.payload)).all()
        orders = set(session.scalars(select(Order.id)))
        events = set(session.execute(select(AuditEvent.request_id, AuditEvent.action)).all())
        # the rule admin_new_device: every admin's sign-in from a new browser but their first
        sign_ins = session.execute(
            select(AuditEvent.chain_id, AuditEvent.actor_id, AuditEvent.details)
            .where(AuditEvent.action == "account.signed_in", AuditEvent.company_id.is_not(None))
            .order_by(AuditEvent.chain_id, AuditEvent.seq)).all()
        alerts = Counter(session.scalars(select(SecurityAlert.event_id).where(
            SecurityAlert.rule == "admin_new_device")))
        documents = Counter(session.scalars(select(Document.status))) if OCR else Counter()
    seen, new_device = set(), 0
    for chain_id, actor_id, details in sign_ins:
        new_device += bool((chain_id, actor_id) in seen and details.get("new_device"))
        seen.add((chain_id, actor_id))
    sent = receipts(mail)
    receipt_jobs = [job for job in jobs if job.name == "modules.receipt_mail"]
    verify = subprocess.run([str(MYPAGES), "-c", str(ini), "--json", "audit", "verify"],
                            capture_output=True, text=True, env=env, cwd=REPO)
    counts = {
        "requests": sum(tally.kinds.values()), "by_kind": dict(tally.kinds),
        "by_status": {str(key): value for key, value in sorted(tally.statuses.items())},
        "answers_5xx": tally.statuses.get(500, 0),
        "refused_4xx": dict(tally.refused),
        "cut_off_by_the_killed_worker": tally.cut_off,
        "changes_seen_succeed": len(tally.changes),
        "changes_without_audit_event": len([c for c in tally.changes if c not in events]),
        "orders_seen": len(tally.orders), "orders_in_database": len(orders),
        "jobs_queued": len(jobs),
        "jobs_unfinished": len([job for job in jobs if job.finished_at is None]),
        "jobs_failed": len([job for job in jobs if job.last_error]),
        "jobs_retried_after_the_kill": len([job for job in jobs if job.attempts > 1]),
        "receipts_sent": sum(sent.values()),
        "receipts_sent_twice": len([o for o, n in sent.items() if n > 1]),
        "orders_without_receipt": len([o for o in orders if sent.get(o, 0) == 0]),
        "receipt_jobs": len(receipt_jobs),
        "documents_uploaded": sum(documents.values()),
        "documents_read": documents.get("done", 0),
        "admin_sign_ins_from_new_browsers": new_device, "new_device_alerts": sum(alerts.values()),
        "alerts_raised_twice": len([e for e, n in alerts.items() if n > 1]),
        "chains_not_watched": behind,
        "audit_verify_exit_status": verify.returncode,
        "audit_events_verified": (json.loads(verify.stdout)["checked"]
                                  if verify.returncode in (0, 1) and verify.stdout else None),
    }
    counts["checks"] = {
        "no 5xx": counts["answers_5xx"] == 0,
        "no job run twice": counts["receipts_sent_twice"] == 0
        and counts["alerts_raised_twice"] == 0,
        "no job lost": counts["jobs_unfinished"] == 0 and counts["jobs_failed"] == 0
        and counts["orders_without_receipt"] == 0 and tally.orders <= orders
        and counts["documents_read"] == counts["documents_uploaded"]
        and counts["new_device_alerts"] == new_device and behind == 0,
        "an audit event for every change seen": counts["changes_without_audit_event"] == 0,
        "audit verify passes": verify.returncode == 0,
    }
    counts["passed"] = all(counts["checks"].values())
    if tally.server_errors:
        counts["server_errors"] = tally.server_errors[:20]
    return counts


def run(prepared=None) -> dict:
    """The load run; ``prepared`` (the other benchmarks' workspace) is not used."""
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
    clients = int(os.environ.get("BENCH_LOAD_CLIENTS", "6"))
    keep = os.environ.get("BENCH_KEEP", "") not in ("", "0")
    directory = Path(tempfile.mkdtemp(prefix="mypages-load-"))
    postgres = ThrowawayPostgres().start()
    servers, workers = [], []
    try:
        database_url = postgres.create_database("mypages_load")
        mail = directory / "mail"
        ini = directory / "load.ini"
        ini.write_text(INI.format(database=database_url, mail=mail))
        env = dict(os.environ, PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning")
        log(f"PostgreSQL on port {postgres.port}; migrating and seeding {clients} companies")
        subprocess.run([str(MYPAGES), "-c", str(ini), "db", "upgrade"], env=env, cwd=REPO,
                       check=True, capture_output=True)
        admins = seed(database_url, clients)
        web = Server("load", ["--paste", str(ini)], "/login", directory / "gunicorn.log", env,
                     REPO, port=free_port())
        servers.append(web.start())
        workers = [JobWorker(ini, directory / f"jobs-{n}.log", env).start() for n in (1, 2)]
        tally, stop = Tally(), threading.Event()
        document = scanned_invoice() if OCR else None
        threads = [Client(web.url, admin, tally, stop, number, document)
                   for number, admin in enumerate(admins)]
        log(f"{seconds:.0f} s of traffic from {clients} clients at {web.url}")
        started = time.monotonic()
        for thread in threads:
            thread.start()
        killed = {}
        time.sleep(seconds / 3)
        victim = gunicorn_workers(web.process)[0]
        os.kill(victim, signal.SIGKILL)
        killed["web_worker"] = {"pid": victim, "at_second": round(time.monotonic() - started, 1)}
        log(f"killed gunicorn worker {victim} (SIGKILL); gunicorn starts another")
        time.sleep(max(0.0, seconds / 2 - (time.monotonic() - started)))
        killed["job_worker"] = {"pid": workers[0].process.pid,
                                "at_second": round(time.monotonic() - started, 1)}
        workers[0].kill()
        log(f"killed job worker {killed['job_worker']['pid']} (SIGKILL); starting it again")
        workers[0].start()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        replaced = victim not in gunicorn_workers(web.process) \
            and len(gunicorn_workers(web.process)) == 2
        log("traffic stopped; waiting for the job queue to drain")
        engine = engine_from_url(database_url)
        behind = caught_up(engine, time.monotonic() + 90)
        drain(engine, time.monotonic() + LEASE.total_seconds() + 30)
        counts = check(engine, tally, mail, ini, env, behind)
        engine.dispose()
        counts.update(seconds=seconds, clients=clients, killed=killed,
                      web_worker_replaced=replaced)
        counts["checks"]["the killed web worker was replaced"] = replaced
        counts["passed"] = all(counts["checks"].values())
        report(counts)
        return counts
    finally:
        for worker in workers:
            worker.stop()
        for server in servers:
            server.stop()
        postgres.stop()
        if keep:
            log(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def report(counts: dict) -> None:
    log("")
    for key in ("requests", "by_kind", "by_status", "answers_5xx", "refused_4xx",
                "cut_off_by_the_killed_worker", "changes_seen_succeed",
                "changes_without_audit_event", "orders_seen", "orders_in_database",
                "jobs_queued", "jobs_unfinished", "jobs_failed", "jobs_retried_after_the_kill",
                "receipt_jobs", "receipts_sent", "receipts_sent_twice", "orders_without_receipt",
                "documents_uploaded", "documents_read", "admin_sign_ins_from_new_browsers",
                "new_device_alerts", "alerts_raised_twice", "chains_not_watched",
                "audit_events_verified", "audit_verify_exit_status", "killed"):
        log(f"  {key:32} {counts[key]}")
    for name, passed in counts["checks"].items():
        log(f"  [{'ok' if passed else 'FAILED'}] {name}")
    for line in counts.get("server_errors", []):
        log(f"  5xx: {line}")


def main() -> int:
    return 0 if run()["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
