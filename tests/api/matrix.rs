//! The security matrix's coverage: every row of `docs/SECURITY_MATRIX.md` is cited
//! by a test (`Matrix: <ID>` in a comment right above it) or listed as pending in
//! `docs/security.md`, never both, and the coverage table there is generated from the
//! citations. `COGNATE_BLESS=1 cargo test --test api matrix` rewrites the table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Where tests live: Rust integration and unit tests, Python suites, the fault harness.
const SOURCES: [&str; 3] = ["tests", "src", "fuzz"];
/// A citation belongs to the first test definition within this many lines below it
/// (decorators such as a parametrised list come between).
const REACH: usize = 25;
const PENDING: (&str, &str) = ("<!-- pending:start -->", "<!-- pending:end -->");
const COVERAGE: (&str, &str) = ("<!-- coverage:start -->", "<!-- coverage:end -->");

/// The project's copy of the matrix: the shared reference's rows plus its own.
const MATRIX: &str = "docs/SECURITY_MATRIX.md";
/// The reference the copy started from, beside the project where it is laid out.
const REFERENCE: &str = "../shared/SECURITY_MATRIX.md";

/// The row IDs of the matrix, in its order (`AZ-01`, …, `R-11`).
fn matrix_rows() -> Vec<String> {
    let text = std::fs::read_to_string(format!("{ROOT}/{MATRIX}")).expect("the security matrix");
    row_lines(&text)
        .map(|(id, _)| id.to_string())
        .fold(Vec::new(), |mut rows, id| {
            if !rows.contains(&id) {
                rows.push(id);
            }
            rows
        })
}

/// `(ID, line)` for each table row of a matrix text.
fn row_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let cell = line.strip_prefix("| ")?.split(' ').next()?;
        let is_id = cell.split_once('-').is_some_and(|(area, n)| {
            !area.is_empty()
                && area.chars().all(|c| c.is_ascii_uppercase())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        });
        is_id.then_some((cell, line))
    })
}

#[test]
fn the_projects_matrix_keeps_every_row_of_the_reference() {
    let Ok(reference) = std::fs::read_to_string(format!("{ROOT}/{REFERENCE}")) else {
        eprintln!("SKIPPED: no {REFERENCE} beside the project");
        return;
    };
    let ours = std::fs::read_to_string(format!("{ROOT}/{MATRIX}")).unwrap();
    let ours: BTreeSet<&str> = row_lines(&ours).map(|(_, line)| line).collect();
    let changed: Vec<&str> = row_lines(&reference)
        .filter(|(_, line)| !ours.contains(line))
        .map(|(id, _)| id)
        .collect();
    assert!(
        changed.is_empty(),
        "rows of {REFERENCE} missing or changed in {MATRIX}: {changed:?}"
    );
}

/// Row → tests citing it, as `path::name`.
fn citations() -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    for dir in SOURCES {
        collect(&Path::new(ROOT).join(dir), &mut files);
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let rel = file.strip_prefix(ROOT).unwrap().display().to_string();
        for (i, line) in lines.iter().enumerate() {
            let Some(ids) = marker(line) else { continue };
            let name = lines[i + 1..]
                .iter()
                .take(REACH)
                .find_map(|l| definition(l))
                .unwrap_or_else(|| panic!("{rel}:{}: `Matrix:` is not above a test", i + 1));
            for id in ids {
                found
                    .entry(id)
                    .or_default()
                    .insert(format!("{rel}::{name}"));
            }
        }
    }
    found
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["target", "corpus", "artifacts", "__pycache__"].contains(&name.as_str()) {
                collect(&path, out);
            }
        } else if name.ends_with(".rs") || name.ends_with(".py") {
            out.push(path);
        }
    }
}

/// The IDs of a `// Matrix: A-1, B-2` or `# Matrix: …` comment line.
fn marker(line: &str) -> Option<Vec<String>> {
    let rest = line.trim_start();
    let rest = rest
        .strip_prefix("//")
        .or_else(|| rest.strip_prefix('#'))?
        .trim_start()
        .strip_prefix("Matrix:")?;
    Some(
        rest.split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// The name of the Rust fn or Python def a line defines.
fn definition(line: &str) -> Option<String> {
    let l = line.trim_start();
    let l = l.strip_prefix("pub ").unwrap_or(l);
    let l = l.strip_prefix("async ").unwrap_or(l);
    let rest = l.strip_prefix("fn ").or_else(|| l.strip_prefix("def "))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The byte range between two markers.
fn span(text: &str, (start, end): (&str, &str)) -> std::ops::Range<usize> {
    let from = text.find(start).expect("start marker") + start.len();
    let to = text[from..].find(end).expect("end marker") + from;
    from..to
}

fn between<'a>(text: &'a str, markers: (&str, &str)) -> &'a str {
    &text[span(text, markers)]
}

fn pending(doc: &str) -> BTreeSet<String> {
    between(doc, PENDING)
        .lines()
        .filter_map(|l| l.strip_prefix("- ")?.split(':').next())
        .map(str::to_string)
        .collect()
}

fn table(rows: &[String], cited: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut out = String::from("\n| row | tests |\n|---|---|\n");
    for row in rows {
        let tests = match cited.get(row) {
            Some(tests) => tests
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join("<br>"),
            None => "pending (above)".into(),
        };
        out.push_str(&format!("| {row} | {tests} |\n"));
    }
    out
}

#[test]
fn every_matrix_row_is_tested_or_pending_and_the_table_is_current() {
    let rows = matrix_rows();
    assert!(
        rows.len() >= 90,
        "the matrix parsed to only {} rows",
        rows.len()
    );
    let cited = citations();
    let doc_path = format!("{ROOT}/docs/security.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    let pending = pending(&doc);

    let unknown: Vec<_> = cited
        .keys()
        .chain(&pending)
        .filter(|id| !rows.contains(id))
        .collect();
    assert!(unknown.is_empty(), "IDs not in the matrix: {unknown:?}");
    let both: Vec<_> = pending
        .iter()
        .filter(|id| cited.contains_key(*id))
        .collect();
    assert!(both.is_empty(), "tested yet listed as pending: {both:?}");
    let neither: Vec<_> = rows
        .iter()
        .filter(|id| !cited.contains_key(*id) && !pending.contains(*id))
        .collect();
    assert!(
        neither.is_empty(),
        "rows neither tested nor pending: {neither:?}"
    );

    let fresh = table(&rows, &cited);
    if std::env::var_os("COGNATE_BLESS").is_some() {
        let mut doc = doc;
        doc.replace_range(span(&doc, COVERAGE), &fresh);
        std::fs::write(&doc_path, doc).unwrap();
    } else {
        assert!(
            between(&doc, COVERAGE) == fresh,
            "docs/security.md's coverage table is stale: COGNATE_BLESS=1 cargo test --test api matrix"
        );
    }
}

#[test]
fn markers_and_definitions_parse() {
    assert_eq!(
        marker("    // Matrix: TK-01, TK-02"),
        Some(vec!["TK-01".into(), "TK-02".into()])
    );
    assert_eq!(marker("# Matrix: R-5"), Some(vec!["R-5".into()]));
    assert_eq!(marker("// see Matrix: TK-01"), None);
    assert_eq!(definition("async fn a_b() {"), Some("a_b".into()));
    assert_eq!(definition("def test_x(idp):"), Some("test_x".into()));
    assert_eq!(definition("#[tokio::test]"), None);
}
