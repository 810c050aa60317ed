//! Helpers the end-to-end tests share (each test file uses some of them).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `nasbo` binary under test.
pub fn nasbo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nasbo"))
}

/// A fresh, empty folder for one test: `nasbo-<tag>-<name>-<pid>` in the temporary folder.
pub fn workdir(tag: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasbo-{tag}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A space file `dir/space.toml` with one float parameter `x` on [low, high].
pub fn x_space(dir: &Path, low: f64, high: f64) -> PathBuf {
    let space = dir.join("space.toml");
    std::fs::write(
        &space,
        format!("[[param]]\nname = \"x\"\ntype = \"float\"\nlow = {low:?}\nhigh = {high:?}\n"),
    )
    .unwrap();
    space
}

/// The rows of a CSV, each as column → cell.
pub fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The two-float space (`x`, `y` on [0, 1]) of the storage and fault tests.
pub const XY_SPACE: &str = "[[param]]\nname = \"x\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n\
                            [[param]]\nname = \"y\"\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n";

/// Runs `test` on SQLite (a file in a fresh folder `nasbo-<tag>-<name>-sqlite-…`) and, when
/// `NASBO_TEST_POSTGRES` names a server, on PostgreSQL.
pub fn on_both(tag: &str, name: &str, test: fn(&str, &Path)) {
    let dir = workdir(tag, &format!("{name}-sqlite"));
    test(&format!("sqlite:{}", dir.join("s.db").display()), &dir);
    std::fs::remove_dir_all(&dir).ok();
    if let Some(url) = nasbo::tuner::study::test_postgres_url() {
        let dir = workdir(tag, &format!("{name}-pg"));
        test(&url, &dir);
        std::fs::remove_dir_all(&dir).ok();
    }
}
