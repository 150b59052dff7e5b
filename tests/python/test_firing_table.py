"""docs/triggers.md, the firing table: every row names at least one test, and every
test it names exists in the file it points at (py/x: tests/python/x.py, rs/x:
tests/api/x.rs), so the table cannot drift from the tests that drive it."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "triggers.md").read_text()


def rows():
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and not set(cells[0]) <= {"-"} and cells[0] != "Operation / path":
            yield cells


def test_every_row_names_tests_that_exist():
    checked = 0
    previous = None
    for operation, triggers, tests in rows():
        assert triggers, operation
        if tests == "the same tests" or tests == "the same test":
            assert previous, operation
            continue
        files = re.findall(r"(py|rs)/(\w+)", tests)
        assert files, f"{operation}: no test named"
        names = re.findall(r"`(\w+)`", tests)
        assert names, f"{operation}: no test named"
        sources = {f: (ROOT / "tests" / ("python" if kind == "py" else "api") /
                       f"{f}.{'py' if kind == 'py' else 'rs'}").read_text() for kind, f in files}
        for name in names:
            assert any(re.search(rf"\b(def|fn) {name}\b", src) for src in sources.values()), \
                f"{operation}: {name} is not in {sorted(sources)}"
            checked += 1
        previous = names
    assert checked >= 25, checked
