"""A rebuild with several indexing processes finds exactly what a single-process one finds."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from search_index import ANY_STATUS, IndexedItem, SearchIndex, SearchQuery, Viewer

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["minibus", "laptops", "meeting room", "volunteers", "garden tools", "posters", "café"]
DISTRICTS = ["Blaby", "Charnwood", "Melton"]


def items():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(600):
        word = WORDS[i % len(WORDS)]
        yield IndexedItem(
            kind="need" if i % 3 else "offer",
            id=i + 1,
            title=f"{word.capitalize()} wanted {i}",
            description=f"Our group needs {word} for the community, item {i}.",
            category=["goods", "premises", "transport"][i % 3],
            districts=(DISTRICTS[i % 3],),
            outcomes=("great-communities",),
            status="open",
            organisation_id=1 + i % 5,
            organisation_name=f"Group {i % 5}",
            organisation_verified=True,
            created_at=start + timedelta(minutes=i),
            updated_at=start + timedelta(minutes=i),
        )


def test_parallel_rebuild_gives_the_same_results(tmp_path):
    # The parallel rebuild forks; do it in a fresh interpreter, as `marketplace reindex` is,
    # rather than inside this test process with its browser and server threads.
    script = (
        "import sys; from search_index import SearchIndex; from tests.search_index.test_parallel_rebuild import items; "
        "SearchIndex(sys.argv[1]).rebuild(items(), workers=2)"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "parallel")], check=True, cwd=ROOT, timeout=120)
    single, parallel = SearchIndex(tmp_path / "single"), SearchIndex(tmp_path / "parallel")
    single.rebuild(items())
    officer = Viewer(is_officer=True)
    for q in ("minibus", "meeting room", "cafe", "laptops OR posters", "", "volunteers -garden"):
        query = SearchQuery(q=q, status=ANY_STATUS, per_page=100, sort="newest")
        one, two = single.search(query, officer), parallel.search(query, officer)
        assert one.total == two.total
        assert [h.id for h in one.hits] == [h.id for h in two.hits]
        assert one.facets == two.facets
    assert parallel.check(items()).ok
    single.close()
    parallel.close()
