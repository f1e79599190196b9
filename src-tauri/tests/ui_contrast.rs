#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Text colours against their backgrounds in both themes (WCAG 2.2 AA: 4.5:1 for normal text),
//! read from `ui/styles.css` itself, so a palette change that makes a badge or an error text
//! unreadable fails here before anyone sees it. (The full audit of every screen is issue 24's
//! axe-core run in the real window.)

use std::collections::HashMap;

const CSS: &str = include_str!("../../ui/styles.css");

/// The custom properties declared in the first block that starts with `selector`.
fn block(selector: &str) -> HashMap<String, String> {
    let start = CSS.find(selector).expect("selector in styles.css");
    let open = start + CSS[start..].find('{').unwrap();
    let close = open + CSS[open..].find('}').unwrap();
    CSS[open + 1..close]
        .split(';')
        .filter_map(|decl| {
            let (k, v) = decl.split_once(':')?;
            let k = k.split("*/").last()?.trim();
            k.starts_with("--")
                .then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

fn luminance(hex: &str) -> f64 {
    let h = hex.trim_start_matches('#');
    assert_eq!(h.len(), 6, "{hex}: six hex digits expected");
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&h[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn every_text_colour_reads_on_every_background_in_both_themes() {
    let light = block(":root");
    let mut dark = light.clone();
    dark.extend(block("body[data-theme=\"dark\"]"));
    let mut failures = Vec::new();
    for (theme, vars) in [("light", &light), ("dark", &dark)] {
        for text in ["--ink", "--muted", "--accent", "--danger", "--warn"] {
            for background in ["--bg", "--card"] {
                let ratio = contrast(&vars[text], &vars[background]);
                eprintln!("{theme}: {text} on {background} = {ratio:.2}:1");
                if ratio < 4.5 {
                    failures.push(format!("{theme}: {text} on {background} is {ratio:.2}:1"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "below 4.5:1: {failures:?}");
}
