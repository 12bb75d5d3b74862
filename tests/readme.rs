//! The README's three-tier scenario is what a newcomer copies first: it validates and runs
//! against the real Redis and PostgreSQL, passing its own thresholds, and the README's
//! commands name subcommands that exist.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

mod support;

/// The first ```yaml block after the heading `## A three-tier scenario`.
fn three_tier_example() -> String {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let section = readme
        .split("## A three-tier scenario")
        .nth(1)
        .expect("the README has a three-tier section");
    let block = section.split("```yaml\n").nth(1).expect("a yaml block");
    block.split("```").next().unwrap().to_string()
}

#[test]
fn the_readmes_three_tier_scenario_runs_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = three_tier_example()
        // Its own table and prefix, so that it never meets a concurrent test's.
        .replace("tierbench_three_tier", "tbtest_readme_three_tier")
        .replace("tb:product:", "tbtest:readme:");
    let path = support::write_scenario(dir.path(), "three-tier.yaml", &yaml);
    let out = support::tierbench(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", support::all_output(&out));
    // A shorter measured phase than the README's 20 s: the thresholds hold the same.
    let (out, doc) =
        support::run_for_json_with(&path, &["--set", "workloads.product-reads.duration=5s"]);
    let text = support::all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // Every tier of the stack does work: the point of the example.
    let stack = &doc["workloads"][1];
    for tier in ["l1", "l2", "l3"] {
        let served = stack["served_by"][tier]["count"].as_u64().unwrap();
        assert!(served > 0, "{tier} served no reads\n{text}");
    }
}

#[test]
fn the_readmes_commands_exist() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let help = support::all_output(&support::tierbench(&["--help"]));
    // The commands of the README's shell blocks.
    let shell = readme
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap());
    let lines: Vec<&str> = shell.flat_map(str::lines).collect();
    assert!(lines.len() > 5, "the README has shell blocks");
    for line in lines.iter().filter(|l| l.starts_with("tierbench ")) {
        let command = line.split_whitespace().nth(1).unwrap();
        assert!(
            help.contains(&format!("  {command}")),
            "the README runs `tierbench {command}`, which --help does not list:\n{help}"
        );
    }
}
