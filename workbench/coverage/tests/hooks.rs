//! The hook coverage matrix over the real markets: a hand-written LCOV naming the real override files
//! (absolute paths under the workspace) with hits on some override bodies.

use std::path::{Path, PathBuf};

use pipeline_core::Hook;
use workbench_coverage::hooks::{fn_range, registry_matrix};
use workbench_coverage::{HookStatus, Lcov};
use workbench_testkit::Lcov as TraceFile;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn source(root: &Path, file: &str) -> String {
    std::fs::read_to_string(root.join(file)).unwrap()
}

#[test]
fn the_matrix_tells_executed_unexecuted_and_uninstrumented_overrides_apart() {
    let root = workspace();
    let r = root.display();
    // Hand-checked against the file: `pub fn export_format()` on line 6, its closing brace on line 8.
    assert_eq!(fn_range(&source(&root, "markets/br/src/export_format.rs"), "export_format"), Some((6, 8)));
    let (br_start, br_end) = fn_range(&source(&root, "markets/br/src/normalize.rs"), "normalize").unwrap();
    let (de_start, _) = fn_range(&source(&root, "markets/de/src/eligible_channels.rs"), "eligible_channels").unwrap();
    let (de_norm_start, de_norm_end) = fn_range(&source(&root, "markets/de/src/normalize.rs"), "normalize").unwrap();
    let text = TraceFile::new()
        // br normalize: one body line ran. A line just past its end ran too, which must not count for anything.
        .file(&format!("{r}/markets/br/src/normalize.rs"), &[], &[(br_start, 0), (br_start + 1, 4), (br_end, 0)])
        .file(&format!("{r}/markets/br/src/export_format.rs"), &[], &[(6, 0), (7, 0), (8, 0), (9, 5)])
        .file(
            &format!("{r}/markets/de/src/eligible_channels.rs"),
            &[(de_start, "_RNvCs_de17eligible_channels", 2)],
            &[],
        )
        .file(&format!("{r}/markets/de/src/normalize.rs"), &[], &[(de_norm_start, 0), (de_norm_end, 0)]);
    let lcov = Lcov::parse(Path::new("lcov.info"), text.text()).unwrap();
    let matrix = registry_matrix(&lcov, &root).unwrap();
    assert_eq!(matrix.markets, markets::ids());
    // The tracefile covers the five reference markets' override files; a market added later is not in it.
    let traced = |market: &str| ["foobar-au", "foobar-br", "foobar-ca", "foobar-jp", "foobar-de"].contains(&market);
    let cells: Vec<(&str, Hook, HookStatus)> =
        matrix.overrides.iter().filter(|o| traced(&o.market)).map(|o| (o.market.as_str(), o.hook, o.status)).collect();
    assert_eq!(
        cells,
        vec![
            ("foobar-br", Hook::Normalize, HookStatus::Executed),
            ("foobar-br", Hook::ExportFormat, HookStatus::NotExecuted),
            ("foobar-ca", Hook::Normalize, HookStatus::NotInstrumented),
            ("foobar-jp", Hook::Normalize, HookStatus::NotInstrumented),
            ("foobar-de", Hook::Normalize, HookStatus::NotExecuted),
            // No DA record, but the function record starting at the `fn` line ran.
            ("foobar-de", Hook::EligibleChannels, HookStatus::Executed),
        ]
    );
    let br_export = &matrix.overrides[1];
    assert_eq!(
        (br_export.file.as_str(), br_export.lines, br_export.instrumented, br_export.hit),
        ("markets/br/src/export_format.rs", Some((6, 8)), 3, 0)
    );
    assert_eq!(matrix.status("foobar-au", Hook::Normalize), None);
    assert_eq!(matrix.status("foobar-br", Hook::Normalize), Some(HookStatus::Executed));
    let untested: Vec<(&str, Hook)> =
        matrix.not_executed().filter(|o| traced(&o.market)).map(|o| (o.market.as_str(), o.hook)).collect();
    assert_eq!(untested, vec![("foobar-br", Hook::ExportFormat), ("foobar-de", Hook::Normalize)]);
}
