//! Prometheus 2.42's own PromQL test scripts (`tests/testdata/promql/*.test`),
//! every eval with its `@` and range-query variants. Prints the pass count per
//! file and fails on any failure.

use std::path::Path;

use thanos_promql::promqltest::run_script;

#[test]
fn prometheus_test_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/testdata/promql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 11, "expected the 11 scripts of Prometheus 2.42 in {}", dir.display());
    let (mut passed, mut total, mut failures) = (0, 0, Vec::new());
    for path in files {
        let report = run_script(&std::fs::read_to_string(&path).unwrap());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        println!("{name:24} {:3} of {:3} evals pass", report.passed(), report.evals.len());
        if let Some(e) = &report.error {
            failures.push(format!("{name}: {e}"));
        }
        for e in &report.evals {
            if let Some(f) = &e.failure {
                failures.push(format!("{name}:{}: {f}", e.line));
            }
        }
        passed += report.passed();
        total += report.evals.len();
    }
    println!("total: {passed} of {total} evals pass");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(total, 566);
}
