"""The OCR benchmark: pages per second through the OCR plugin's pipeline against Tesseract
run directly on the same pages, and two workers against one.

1. ``tesseract``    the ``tesseract`` program run on each page image (PNG), one after the
                    other, as the plugin runs it (swe+eng, ``--psm 3``, TSV out,
                    ``OMP_THREAD_LIMIT=1``)
2. ``one_worker``   the same pages as two-page PDF documents (image-only, as scanners make
                    them) queued at once in the database, read by one
                    ``mypages jobs worker --queue ocr`` process: the job claimed, the
                    original read from the blob store, each page rendered (pypdfium2) and
                    read, its display image kept, lines, words, fields and the status
                    written. Counted from the commit that queued them to the moment all are
                    ``done``
3. ``two_workers``  the same with two worker processes side by side

Targets: ``one_worker / tesseract >= 0.9`` (the pipeline costs less than a tenth of the OCR
itself) and ``two_workers / one_worker >= 1.7`` (on two cores, a second worker nearly
doubles the throughput; with fewer free cores it cannot).

The workers are started, and warmed with a document each, before a turn is timed; they poll
the queue every 0.1 s. Settings: BENCH_OCR_PAGES (pages a turn, default 8, rounded up to
whole documents), BENCH_ROUNDS (default 3). The machine should be otherwise idle: the
load average is printed before and after, since OCR takes every core it is given.
"""
from __future__ import annotations

import io
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import transaction
from PIL import Image
from pyramid.paster import get_app
from sqlalchemy import func, select

from mypages.db import session_in_transaction
from mypages.storage import blob_store
from mypages.work import Work
from mypages_ocr.files import examine
from mypages_ocr.models import DONE, Document, add_document
from mypages_ocr.reading import JOB, dedupe_key

from bench.measure import env_int, log, print_report, ratios, summarize
from bench.workspace import Workspace
from tests.plugins.ocr.documents import SECOND_PAGE, SWEDISH, Page, draw

TARGETS = [("one_worker / tesseract", "one_worker", "tesseract", 0.9),
           ("two_workers / one_worker", "two_workers", "one_worker", 1.7)]
PAGES_PER_DOCUMENT = 2
DPI = 150
#: what the worker processes are told on top of the workspace's ini
OCR_INI = f"""\
mypages_ocr.dpi = {DPI}
mypages.storage.directory = {{blobs}}

[loggers]
keys = root

[handlers]
keys = stderr

[formatters]
keys = plain

[logger_root]
level = INFO
handlers = stderr

[handler_stderr]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[formatter_plain]
format = %(asctime)s %(name)s %(levelname)s %(message)s
"""


@dataclass
class Rate:
    """One turn's result, in the shape bench.measure expects (pages for requests), and the
    CPU seconds the turn's processes used (the workers with their tesseract children)."""

    requests_per_sec: float
    pages: int
    seconds: float
    cpu_seconds: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx_3xx: int = 0
    socket_errors: int = 0

    def as_dict(self) -> dict:
        return {"requests_per_sec": round(self.requests_per_sec, 3), "pages": self.pages,
                "seconds": round(self.seconds, 2),
                "cpu_seconds_per_page": round(self.cpu_seconds / self.pages, 3)}


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children it has waited for (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def page_images() -> list[Image.Image]:
    """Two different pages of Swedish text, 30 lines each, at 150 DPI on 1400 px."""
    first = (SWEDISH + SECOND_PAGE) * 3
    second = (SECOND_PAGE + SWEDISH) * 3
    return [draw(Page(lines, size=30, width=1400)) for lines in (first, second)]


def pdf_of(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return buffer.getvalue()


@dataclass
class Pipeline:
    """The portal's database and blobs, the OCR workers' command, and the documents."""

    ini: Path
    env: dict
    log_dir: Path
    company_id: int
    pdf: bytes
    registry: object = field(repr=False, default=None)

    def __post_init__(self):
        self.registry = get_app(str(self.ini)).registry
        self.facts = examine(self.pdf)

    def queue(self, count: int) -> None:
        """``count`` documents, all queued in one transaction."""
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
            work = Work(dbsession, self.registry)
            store = blob_store(self.registry, self.company_id)
            for number in range(count):
                document = add_document(dbsession, self.company_id, None, f"avtal-{number}.pdf",
                                        "contract", self.pdf, self.facts, work.now())
                store.put(document.blob_key, self.pdf, self.facts.content_type)
                work.enqueue(JOB, {"document_id": document.id},
                             dedupe_key=dedupe_key(document.id))

    def waiting(self) -> int:
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
            return dbsession.scalar(select(func.count()).select_from(Document)
                                    .where(Document.status != DONE))

    def wait_done(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.waiting():
            if time.monotonic() > deadline:
                raise RuntimeError(f"documents not read within {timeout:.0f} s; see the "
                                   f"worker logs in {self.log_dir}")
            time.sleep(0.05)

    def start_workers(self, count: int) -> list[subprocess.Popen]:
        mypages = Path(sys.executable).with_name("mypages")
        workers = []
        for number in range(count):
            log_file = open(self.log_dir / f"ocr-worker-{len(workers)}-{time.time_ns()}.log", "w")
            workers.append(subprocess.Popen(
                [str(mypages), "-c", str(self.ini), "jobs", "worker", "--queue", "ocr",
                 "--poll", "0.1"], env=self.env, stdout=subprocess.DEVNULL, stderr=log_file))
            log_file.close()
        # warm: each worker reads one document before anything is timed
        self.queue(count)
        self.wait_done(timeout=300)
        return workers

    @staticmethod
    def stop_workers(workers: list[subprocess.Popen]) -> None:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def turn(self, workers: int, documents: int) -> Rate:
        running = self.start_workers(workers)
        try:
            cpu_before = sum(cpu_seconds(worker.pid) for worker in running)
            self.queue(documents)
            # from the commit: writing the originals is the upload's work, not the reading's
            started = time.perf_counter()
            self.wait_done(timeout=60 * documents)
            seconds = time.perf_counter() - started
            cpu = sum(cpu_seconds(worker.pid) for worker in running) - cpu_before
        finally:
            self.stop_workers(running)
        pages = documents * PAGES_PER_DOCUMENT
        return Rate(pages / seconds, pages, seconds, cpu)


def direct_turn(files: list[Path], pages: int) -> Rate:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    for number in range(pages):
        subprocess.run(["tesseract", str(files[number % len(files)]), "stdout", "-l", "swe+eng",
                        "--psm", "3", "tsv"], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return Rate(pages / seconds, pages, seconds, children_cpu_seconds() - cpu_before)


def run(workspace: Workspace) -> dict:
    rounds = env_int("BENCH_ROUNDS", 3)
    documents = -(-env_int("BENCH_OCR_PAGES", 8) // PAGES_PER_DOCUMENT)
    pages = documents * PAGES_PER_DOCUMENT
    log(f"{pages} pages a turn ({documents} documents of {PAGES_PER_DOCUMENT} pages), "
        f"{rounds} rounds; {os.cpu_count()} cores, load average "
        f"{', '.join(f'{load:.1f}' for load in os.getloadavg())}")

    images = page_images()
    files = []
    for number, image in enumerate(images):
        path = workspace.directory / f"ocr-page-{number + 1}.png"
        image.save(path)
        files.append(path)
    _database, ini = workspace.copy_database("ocr")
    blobs = workspace.directory / "ocr-blobs"
    ini.write_text(ini.read_text() + OCR_INI.format(blobs=blobs))
    pipeline = Pipeline(ini, workspace.env, workspace.directory,
                        workspace.seeded.company_id, pdf_of(images))

    turns = {"tesseract": lambda: direct_turn(files, pages),
             "one_worker": lambda: pipeline.turn(1, documents),
             "two_workers": lambda: pipeline.turn(2, documents)}
    runs = {name: [] for name in turns}
    names = list(turns)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            result = turns[name]()
            runs[name].append(result)
            log(f"  round {round_number + 1}/{rounds}  {name:<16} "
                f"{result.requests_per_sec:6.3f} pages/s ({result.pages} pages in "
                f"{result.seconds:.1f} s; {result.cpu_seconds / result.pages:.2f} CPU s "
                "a page)")
    summary = summarize(runs)
    ratio_rows = ratios(summary, TARGETS)
    print_report(summary, ratio_rows, unit="pages/s", decimals=3)
    cpu = {name: statistics.median(run.cpu_seconds / run.pages for run in results)
           for name, results in runs.items()}
    log(f"\nCPU seconds a page (median; what the pages cost, whatever else ran): "
        + ", ".join(f"{name} {value:.2f}" for name, value in cpu.items()))
    log(f"tesseract / one_worker in CPU a page: {cpu['tesseract'] / cpu['one_worker']:.3f} "
        f"(the pipeline's share beside the OCR itself, unmoved by other load)")
    log(f"load average afterwards: {', '.join(f'{load:.1f}' for load in os.getloadavg())}")
    return {"cpu_seconds_per_page": {name: round(value, 3) for name, value in cpu.items()},
            "pages_per_turn": pages, "rounds": rounds,
            "load_average": [round(load, 2) for load in os.getloadavg()],
            "endpoints": summary, "ratios": ratio_rows}
