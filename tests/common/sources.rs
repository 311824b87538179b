//! The repository's own files, for the tests that check its shape
//! (tests/header.rs, tests/readme.rs).

use std::path::{Path, PathBuf};

/// The handles and the header's sections, as the crate and build.rs read
/// them.
pub mod handles {
    include!("../../src/ffi/handles.rs");
}

/// Every `.rs` file below `dir`, with its text.
pub fn rust_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
    out
}
