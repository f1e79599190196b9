//! The accessibility audit (issue 24): axe-core, from the npm package pinned in
//! `tests/a11y/package-lock.json` (test-only, never shipped), injected into the real window over
//! WebDriver and run against WCAG 2.0–2.2 A and AA. Each audit prints its report.

use std::path::Path;

use std::io::Write;

use serde_json::Value;

use crate::{BoxError, Desk};

/// The WCAG tags axe checks: every success criterion of levels A and AA up to WCAG 2.2.
const TAGS: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// axe-core's browser build, as `make deps-test` installed it.
pub fn axe_source() -> Result<String, BoxError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("a11y/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (run `make deps-test`)", path.display()).into())
}

/// Audits the current window as it is now and prints what axe found under `name`; returns the
/// violations (`id`, `impact`, `help`, the first nodes).
pub async fn audit(desk: &Desk, axe: &str, name: &str) -> Result<Vec<Value>, BoxError> {
    let loaded = desk.js("return typeof window.axe === 'object'").await?;
    if loaded != Value::Bool(true) {
        desk.js(&format!("{axe}\n;return typeof window.axe"))
            .await?;
    }
    let script = format!(
        "const done = arguments[arguments.length - 1];\
         window.axe.run(document, {{ runOnly: {{ type: 'tag', values: {tags} }}, }})\
           .then((r) => done({{ passes: r.passes.length, violations: r.violations.map((v) => ({{\
              id: v.id, impact: v.impact, help: v.help,\
              nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' ')) }})) }}),\
                 (e) => done({{ error: String(e) }}));",
        tags = serde_json::to_string(&TAGS)?
    );
    let result = desk.client.execute_async(&script, vec![]).await?;
    if let Some(e) = result.get("error") {
        return Err(format!("axe failed on {name}: {e}").into());
    }
    let violations = result["violations"].as_array().cloned().unwrap_or_default();
    let mut report = format!(
        "axe {name}: {} rules passed, {} violation(s)\n",
        result["passes"],
        violations.len()
    );
    for v in &violations {
        report += &format!("  - {} ({}): {}\n", v["id"], v["impact"], v["help"]);
        for n in v["nodes"].as_array().into_iter().flatten() {
            report += &format!("      {}\n", n.as_str().unwrap_or_default());
        }
    }
    print_past_capture(&report);
    Ok(violations)
}

/// Written to stderr directly, past the test harness's capture: the report is in every run's
/// output, passing or not.
pub fn print_past_capture(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}
