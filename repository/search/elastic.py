"""The scale-out search backend: Elasticsearch or OpenSearch, through opensearch-py (imported here only).

The words are folded in Python before they are sent (``fold.words``), exactly as for the embedded
backend, so the engine needs no ICU plugin and only splits on spaces.  Records live in an index
``ALIAS-<time>`` reached through the alias ``ALIAS``: a reindex fills a new index and moves the
alias in one atomic call, so searches never see a half-built index.  ``opensearch-py`` rather
than ``elasticsearch-py``: the latter (8 and 9) sends only ``compatible-with`` media types, which
OpenSearch refuses with 406, while plain JSON is accepted by both engines.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError, OpenSearchException, RequestError

from repository.errors import Unavailable
from repository.search.backend import FACET_SIZES, MAX_WINDOW, Hit, Results, spelling_distance, window
from repository.search.documents import Indexed
from repository.search.query import FACETS, TEXT_FIELDS, Filters, Query, QueryError, Term

_TEXT = {"type": "text", "analyzer": "whitespace", "copy_to": "spell"}
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "rid": {"type": "long"},
        "local_id": {"type": "keyword"},
        "year": {"type": "integer"},
        "title_key": {"type": "keyword"},
        "spell": {"type": "text", "analyzer": "whitespace"},  # every field's words, for "did you mean"
        **{name: _TEXT for name in TEXT_FIELDS},
        **{f"facet_{name}": {"type": "keyword"} for name in FACETS},
    },
}
SETTINGS = {"number_of_shards": 1, "max_result_window": MAX_WINDOW, "refresh_interval": "1s"}
_SORT = {
    "relevance": [{"_score": "desc"}, {"rid": "asc"}],
    "year": [{"year": {"order": "desc", "missing": "_last"}}, {"rid": "asc"}],
    "title": [{"title_key": "asc"}, {"rid": "asc"}],
}


class ElasticIndex:
    """Documents in ``ALIAS-<time>`` behind the alias ``ALIAS``, created on first use."""

    name = "elasticsearch"
    outdated = False  # an index of another layout is never searched: a reindex makes a new one

    def __init__(self, url: str, alias: str, timeout: float = 10.0) -> None:
        self.client = OpenSearch(url, timeout=timeout, max_retries=1, retry_on_timeout=False)
        self.url = url
        self.alias = alias
        self._ready = False

    def _call(self, what: str, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        """Run one client call; a connection or server failure is an ``Unavailable`` error saying which."""
        try:
            return fn(*args, **kwargs)
        except RequestError as exc:
            raise QueryError(f"the search engine refused the query: {exc.error}", "refused") from None
        except OpenSearchException as exc:
            raise Unavailable(f"search engine at {self.url}: {what} failed: {exc}") from None

    def _ensure(self) -> None:
        """Create the first index and its alias unless they exist."""
        if self._ready:
            return
        if not self._call("checking the alias", self.client.indices.exists_alias, name=self.alias):
            first = self.new_generation()
            self._call("creating the alias", self.client.indices.put_alias, index=first, name=self.alias)
        self._ready = True

    # ------------------------------------------------------------------------------- writing

    def update(self, docs: Iterable[Indexed], generation: str | None = None) -> None:
        """Bulk-write these documents (a deleted one is taken out) into the alias or ``generation``."""
        if generation is None:
            self._ensure()
        target = generation or self.alias
        actions = [
            {"_op_type": "delete", "_index": target, "_id": str(d.record_id)}
            if d.deleted
            else {"_op_type": "index", "_index": target, "_id": str(d.record_id), "_source": _source(d)}
            for d in docs
        ]
        if not actions:
            return
        _, errors = self._call("indexing", helpers.bulk, self.client, actions, raise_on_error=False,
                               raise_on_exception=True)  # fmt: skip
        failed = [e for e in errors if e.get("delete", {}).get("status") != 404]  # deleting the absent is fine
        if failed:
            raise Unavailable(f"search engine at {self.url}: {len(failed)} documents not indexed: {failed[0]}")
        if generation is None:  # visible to the next search, as on the embedded backend
            self._call("refreshing", self.client.indices.refresh, index=target)

    def new_generation(self) -> str:
        """Create an empty index for a reindex, with our settings and mappings."""
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        body = {"settings": SETTINGS, "mappings": MAPPINGS}
        self._call("creating an index", self.client.indices.create, index=name, body=body)
        return name

    def publish(self, generation: str) -> None:
        """Point the alias at ``generation`` in one atomic call, then drop the indices it left."""
        self._call("refreshing", self.client.indices.refresh, index=generation)
        try:
            old = list(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            old = []
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old if name != generation]
        actions.append({"add": {"index": generation, "alias": self.alias}})
        self._call("moving the alias", self.client.indices.update_aliases, body={"actions": actions})
        for name in old:
            if name != generation:
                self._call("dropping the old index", self.client.indices.delete, index=name)
        self._ready = True

    # ------------------------------------------------------------------------------- reading

    def search(self, query: Query, page: int, size: int, sort: str, facets: bool = True) -> Results:
        """One page of the records matching ``query``, with the facets of all of them."""
        self._ensure()
        start, count = window(page, size)
        body: dict = {
            "query": to_dsl(query),
            # an empty query is a browse, a lookup is found not ranked: newest first, as on the embedded backend
            "sort": [{"rid": "desc"}] if sort == "relevance" and (not query.groups or query.is_lookup) else _SORT[sort],
            "from": start,
            "size": count,
            "track_total_hits": True,
            "_source": False,
        }
        if facets:
            body["aggs"] = {
                name: {
                    "terms": {
                        "field": f"facet_{name}",
                        "size": FACET_SIZES.get(name, 10),
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                }  # fmt: skip
                for name in FACETS
            }
        answer = self._call("searching", self.client.search, index=self.alias, body=body)
        hits = [Hit(int(h["_id"]), float(h.get("_score") or 0.0)) for h in answer["hits"]["hits"]]
        counted = {
            name: [(str(b["key"]), b["doc_count"]) for b in agg["buckets"]]
            for name, agg in answer.get("aggregations", {}).items()
            if agg["buckets"]
        }
        return Results(answer["hits"]["total"]["value"], hits, counted)

    def suggest(self, words: list[str]) -> dict[str, str]:
        """For each word the index lacks, the closest it holds (the engine's term suggester)."""
        wanted = [w for w in dict.fromkeys(words) if len(w) >= 3]
        if not wanted:
            return {}
        self._ensure()
        body = {
            "size": 0,
            "suggest": {
                "spelling": {
                    "text": " ".join(wanted),
                    "term": {"field": "spell", "suggest_mode": "missing", "max_edits": 2, "prefix_length": 1},
                }
            },
        }
        answer = self._call("suggesting", self.client.search, index=self.alias, body=body)
        out = {}
        for entry in answer.get("suggest", {}).get("spelling", []):
            options = [o["text"] for o in entry["options"] if spelling_distance(entry["text"], o["text"]) is not None]
            if options:
                out[entry["text"]] = options[0]
        return out

    def known(self, words: list[tuple[str, bool]]) -> set[tuple[str, bool]]:
        """Which of these words the index holds (with ``True``: which begin a word it holds), in one request."""
        if not words:
            return set()
        self._ensure()
        filters = {
            str(n): {"prefix": {"spell": word}} if prefix else {"term": {"spell": word}}
            for n, (word, prefix) in enumerate(words)
        }
        body = {"size": 0, "aggs": {"known": {"filters": {"filters": filters}}}}
        answer = self._call("looking words up", self.client.search, index=self.alias, body=body)
        buckets = answer["aggregations"]["known"]["buckets"]
        return {pair for n, pair in enumerate(words) if buckets[str(n)]["doc_count"]}

    def count(self) -> int:
        """How many records the alias holds."""
        self._ensure()
        return self._call("counting", self.client.count, index=self.alias)["count"]

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


def _source(doc: Indexed) -> dict:
    source: dict = {
        "rid": doc.record_id,
        "local_id": doc.local_id,
        "year": doc.year,
        "title_key": doc.title_key,
        **dict(zip(TEXT_FIELDS, doc.words, strict=True)),
    }
    for name, values in doc.facets:
        source[f"facet_{name}"] = values
    return source


def to_dsl(query: Query) -> dict:
    """The query DSL of a read query: every group required, excluded terms out, filters applied."""
    musts = [{"bool": {"should": [_term(t) for t in group], "minimum_should_match": 1}} for group in query.groups]
    body: dict = {
        "must": musts or [{"match_all": {}}],
        "must_not": [_term(t) for t in query.excluded],
        "filter": _filters(query.filters),
    }
    return {"bool": body}


def _term(term: Term) -> dict:
    """A term over its field or every field, weighted as ``TEXT_FIELDS`` says; a prefix ranks below the word."""
    fields = [term.field] if term.field else list(TEXT_FIELDS)
    should: list[dict] = []
    for name in fields:
        weight = TEXT_FIELDS[name]
        text = " ".join(term.words)
        if term.phrase:
            kind = "match_phrase_prefix" if term.prefix else "match_phrase"
            should.append({kind: {name: {"query": text, "boost": weight}}})
            continue
        should.append({"match": {name: {"query": text, "boost": weight}}})
        if term.prefix:
            should.append({"prefix": {name: {"value": text, "boost": weight / 2}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _filters(filters: Filters) -> list[dict]:
    out: list[dict] = []
    if filters.year_from is not None or filters.year_to is not None:
        bounds = {}
        if filters.year_from is not None:
            bounds["gte"] = filters.year_from
        if filters.year_to is not None:
            bounds["lte"] = filters.year_to
        out.append({"range": {"year": bounds}})
    for name, values in filters.values.items():
        out.append({"terms": {f"facet_{name}": list(values)}})
    return out
