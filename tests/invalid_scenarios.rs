//! Every invalid fixture is rejected with every problem, its place, what was expected and a hint.
//! The messages are snapshots: a change in wording shows up in review.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

#[test]
fn invalid_scenarios_report_every_problem_with_its_place() {
    insta::glob!("fixtures/invalid/*.*", |path| {
        let relative = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path)
            .to_path_buf();
        let error = match tierbench::scenario::load(&relative) {
            Ok(_) => panic!("{} should be invalid", relative.display()),
            Err(diagnostics) => diagnostics.to_string(),
        };
        insta::assert_snapshot!(error);
    });
}
