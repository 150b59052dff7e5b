//! The payload files the tests read live in `tests/payloads/`, so a plain clone of the
//! project runs its own tests. `../shared/payloads/` beside the project is the
//! reference they were copied from: when it is there, the copies must be the same bytes.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The project's copies.
const COPIES: &str = "tests/payloads";
/// The reference, beside the project where it is laid out.
const REFERENCE: &str = "../shared/payloads";

/// The text of the payload file `name`.
pub(crate) fn read(name: &str) -> String {
    let path = Path::new(ROOT).join(COPIES).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The file names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_payload_copies_are_the_same_bytes_as_the_shared_reference() {
    let reference = PathBuf::from(ROOT).join(REFERENCE);
    if !reference.is_dir() {
        eprintln!("SKIPPED: no {REFERENCE} beside the project");
        return;
    }
    let copies = PathBuf::from(ROOT).join(COPIES);
    assert_eq!(
        names(&copies),
        names(&reference),
        "{COPIES} must hold exactly the files of {REFERENCE}"
    );
    for name in names(&reference) {
        let ours = std::fs::read(copies.join(&name)).unwrap();
        let theirs = std::fs::read(reference.join(&name)).unwrap();
        assert!(
            ours == theirs,
            "{COPIES}/{name} differs from {REFERENCE}/{name}"
        );
    }
}
