//! Per-crate and per-file summaries: files grouped under the deepest workspace member holding them, files
//! outside every member under `(other)`, files outside the workspace left out, and regions from the JSON export.

use std::path::Path;

use workbench_coverage::summary::{Counts, JsonExport, summarize, workspace_members};
use workbench_coverage::{CoverageError, Lcov};
use workbench_testkit::{Lcov as TraceFile, write};

/// A crate's name, directory, lines, functions, regions and file paths.
type Row<'a> = (&'a str, &'a str, Counts, Counts, Option<Counts>, Vec<&'a str>);

#[test]
fn files_group_under_the_deepest_member_with_regions_from_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"wb\", \"wb/cov\"]\n");
    write(root, "wb/Cargo.toml", "[package]\nname = \"workbench\"\n");
    write(root, "wb/cov/Cargo.toml", "[package]\nname = \"workbench-coverage\"\n");
    assert_eq!(
        workspace_members(root),
        vec![("wb".to_string(), "workbench".to_string()), ("wb/cov".to_string(), "workbench-coverage".to_string()),]
    );
    let r = root.display();
    let lcov = TraceFile::new()
        .file(&format!("{r}/wb/src/a.rs"), &[], &[(1, 1), (2, 0)])
        .file(&format!("{r}/wb/cov/src/b.rs"), &[(1, "b", 3)], &[(1, 3)])
        .file(&format!("{r}/build/gen.rs"), &[], &[(1, 0)])
        .file("/home/u/.cargo/registry/x.rs", &[], &[(1, 1)]);
    let lcov = Lcov::parse(Path::new("lcov.info"), lcov.text()).unwrap();
    let export = format!(
        r#"{{"data":[{{"files":[{{"filename":"{r}/wb/src/a.rs","summary":{{"lines":{{"count":2,"covered":1}},
        "functions":{{"count":0,"covered":0}},"regions":{{"count":4,"covered":1}}}}}}]}}]}}"#
    );
    let export = JsonExport::parse(Path::new("c.json"), &export, root).unwrap();
    let summary = summarize(&lcov, Some(&export), root, &workspace_members(root));
    let crates: Vec<Row> = summary
        .crates
        .iter()
        .map(|c| {
            let files = c.files.iter().map(|f| f.path.as_str()).collect();
            (c.name.as_str(), c.dir.as_str(), c.lines, c.functions, c.regions, files)
        })
        .collect();
    assert_eq!(
        crates,
        vec![
            ("(other)", "", Counts::new(0, 1), Counts::new(0, 0), Some(Counts::new(0, 0)), vec!["build/gen.rs"]),
            ("workbench", "wb", Counts::new(1, 2), Counts::new(0, 0), Some(Counts::new(1, 4)), vec!["wb/src/a.rs"]),
            (
                "workbench-coverage",
                "wb/cov",
                Counts::new(1, 1),
                Counts::new(1, 1),
                Some(Counts::new(0, 0)),
                vec!["wb/cov/src/b.rs"]
            ),
        ]
    );
    assert_eq!(summary.lines, Counts { covered: 2, count: 4, percent: Some(50.0) });
    assert_eq!(summary.functions, Counts::new(1, 1));
    assert_eq!(summary.regions, Some(Counts { covered: 1, count: 4, percent: Some(25.0) }));
    assert_eq!(summary.crates[1].files[0].regions, Some(Counts::new(1, 4)));
    assert_eq!(summary.crates[2].files[0].regions, None);
}

#[test]
fn an_export_without_files_is_named() {
    let err = JsonExport::parse(Path::new("c.json"), r#"{"data":[]}"#, Path::new("/w")).unwrap_err();
    assert!(matches!(err, CoverageError::Json { .. }));
    assert_eq!(
        err.to_string(),
        "c.json: not a cargo llvm-cov JSON export (no data[0].files array); regenerate it with `cargo llvm-cov report \
         --json`"
    );
}
