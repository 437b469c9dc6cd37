"""Full-text search over a company's documents, in Swedish.

PostgreSQL: the pages' ``search`` column (``to_tsvector('swedish', text)``, the Snowball
stemmer: "avtalet" finds "avtal"), queried with ``websearch_to_tsquery``, ranked by
``ts_rank`` and cut to snippets by ``ts_headline``. SQLite: the FTS5 index
``ocr_pages_fts`` (unicode61, å, ä and ö kept as letters of their own), every word of the
query as a prefix (SQLite has no Swedish stemmer: "avtal" finds "avtalet" and
"avtalsnummer"), ranked by bm25 and cut by ``snippet``. Either way the words found are
marked in the snippet, which is escaped before the marks become ``<mark>``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import column, func, literal_column, select, table

from mypages_ocr.models import Document, Page

START, STOP = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
HEADLINE = (f"StartSel={START}, StopSel={STOP}, MaxWords=25, MinWords=8, MaxFragments=2, "
            'FragmentDelimiter=" … "')
#: the FTS5 index of the pages on SQLite (made by the migration, kept by triggers)
FTS = table("ocr_pages_fts", column("rowid"), column("text"))


@dataclass(frozen=True)
class Hit:
    document_id: int
    filename: str
    kind: str
    created_at: dt.datetime
    page: int
    snippet: Markup
    rank: float


def terms(query: str) -> list[str]:
    """The words of a query, lower-case."""
    return [word.lower() for word in _WORD.findall(query)][:20]


def _marked(snippet: str) -> Markup:
    return Markup(str(escape(snippet)).replace(START, "<mark>").replace(STOP, "</mark>"))


def _fts_match(words: list[str]) -> str:
    return " ".join('"' + word.replace('"', "") + '"*' for word in words)


def matching_documents(dbsession, company_id: int, query: str):
    """A select of the ids of the company's documents whose text matches ``query`` (as
    :func:`search` matches it), for narrowing another query; None when it has no words."""
    words = terms(query)
    if not words:
        return None
    if dbsession.get_bind().dialect.name == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'swedish'"), " ".join(words))
        return select(Page.document_id).where(
            Page.company_id == company_id,
            literal_column("ocr_pages.search").op("@@")(tsquery))
    return (select(Page.document_id).select_from(FTS).join(Page, Page.id == FTS.c.rowid)
            .where(Page.company_id == company_id,
                   literal_column("ocr_pages_fts").op("MATCH")(_fts_match(words))))


def search(dbsession, company_id: int, query: str, *, kind: str = "",
           since: dt.date | None = None, until: dt.date | None = None,
           limit: int = 50) -> list[Hit]:
    """The pages of the company's documents that match ``query``, best first."""
    words = terms(query)
    if not words:
        return []
    conditions = [Page.company_id == company_id, Document.company_id == company_id]
    if kind:
        conditions.append(Document.kind == kind)
    if since:
        conditions.append(Document.created_at >= dt.datetime.combine(since, dt.time(),
                                                                      dt.timezone.utc))
    if until:
        conditions.append(Document.created_at < dt.datetime.combine(
            until + dt.timedelta(days=1), dt.time(), dt.timezone.utc))
    columns = (Document.id, Document.filename, Document.kind, Document.created_at, Page.number)
    if dbsession.get_bind().dialect.name == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'swedish'"), " ".join(words))
        vector = literal_column("ocr_pages.search")
        rank = func.ts_rank(vector, tsquery)
        snippet = func.ts_headline(literal_column("'swedish'"), Page.text, tsquery, HEADLINE)
        statement = (select(*columns, snippet, rank)
                     .join(Document, Document.id == Page.document_id)
                     .where(vector.op("@@")(tsquery), *conditions))
    else:
        match = _fts_match(words)
        rank = -func.bm25(literal_column("ocr_pages_fts"))
        snippet = func.snippet(literal_column("ocr_pages_fts"), 0, START, STOP, " … ", 16)
        statement = (select(*columns, snippet, rank)
                     .select_from(FTS)
                     .join(Page, Page.id == FTS.c.rowid)
                     .join(Document, Document.id == Page.document_id)
                     .where(literal_column("ocr_pages_fts").op("MATCH")(match), *conditions))
    rows = dbsession.execute(statement.order_by(rank.desc(), Document.id.desc(), Page.number)
                             .limit(limit)).all()
    return [Hit(row[0], row[1], row[2], row[3], row[4], _marked(row[5] or ""), float(row[6]))
            for row in rows]
