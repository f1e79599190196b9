//! The scale curve as a small SVG: CPU seconds and peak RSS against the number of flows, both
//! axes logarithmic so 10 and 5,000 flows fit, with a dotted line of slope 1 through the first
//! point of each (linear growth) to compare with.

/// `points`: (flows, CPU seconds, peak RSS MiB, KiB per flow), by flow count.
pub fn scale_svg(points: &[(usize, f64, f64, f64)]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const L: f64 = 70.0;
    const R: f64 = 20.0;
    const T: f64 = 40.0;
    const B: f64 = 50.0;
    let usable: Vec<_> = points
        .iter()
        .filter(|p| p.0 > 0 && p.1 > 0.0 && p.2 > 0.0)
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n\
         <text x=\"{L}\" y=\"22\" font-size=\"14\">ID Desk engine over HTTPS: CPU and peak RSS against simultaneous flows (log–log)</text>\n"
    );
    let (Some(first), Some(last)) = (usable.first(), usable.last()) else {
        out.push_str("<text x=\"70\" y=\"180\">no data</text>\n</svg>\n");
        return out;
    };
    let (x0, x1) = (
        (first.0 as f64).log10(),
        (last.0 as f64).log10().max((first.0 as f64).log10() + 1.0),
    );
    // One shared y range covering both series and their linear references.
    let values = usable.iter().flat_map(|p| [p.1, p.2]).chain([
        first.1 * last.0 as f64 / first.0 as f64,
        first.2 * last.0 as f64 / first.0 as f64,
    ]);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (y0, y1) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let x = |n: f64| L + (n.log10() - x0) / (x1 - x0) * (W - L - R);
    let y = |v: f64| H - B - (v.log10() - y0) / (y1 - y0) * (H - T - B);
    out.push_str(&format!(
        "<line x1=\"{L}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{}\" stroke=\"black\"/>\n",
        H - B, W - R, H - B, H - B
    ));
    for p in &usable {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            x(p.0 as f64),
            H - B + 18.0,
            p.0
        ));
    }
    let mut decade = y0;
    while decade <= y1 {
        let v = 10f64.powf(decade);
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            L - 6.0,
            y(v) + 4.0,
            if v < 1.0 {
                format!("{v}")
            } else {
                format!("{v:.0}")
            }
        ));
        decade += 1.0;
    }
    out.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">simultaneous flows</text>\n",
        (L + W - R) / 2.0,
        H - 12.0
    ));
    for (pick, colour, label) in [
        (1usize, "#c0392b", "CPU seconds"),
        (2, "#2471a3", "peak RSS, MiB"),
    ] {
        let value = |p: &(usize, f64, f64, f64)| if pick == 1 { p.1 } else { p.2 };
        let line: Vec<String> = usable
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0 as f64), y(value(p))))
            .collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n",
            line.join(" ")
        ));
        let start = value(first);
        let end = start * last.0 as f64 / first.0 as f64;
        out.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-dasharray=\"3 4\"/>\n",
            x(first.0 as f64), y(start), x(last.0 as f64), y(end)
        ));
        for p in &usable {
            out.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>\n",
                x(p.0 as f64),
                y(value(p))
            ));
        }
        let ly = if pick == 1 { T + 6.0 } else { T + 22.0 };
        out.push_str(&format!(
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{label} (dotted: linear from the first point)</text>\n",
            L + 10.0,
            L + 30.0,
            L + 36.0,
            ly + 4.0
        ));
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_every_point_of_both_series() {
        let svg = scale_svg(&[
            (10, 0.1, 9.5, 4.0),
            (100, 0.3, 10.2, 7.0),
            (1000, 2.0, 17.0, 7.5),
        ]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 6);
        assert_eq!(svg.matches("<polyline").count(), 2);
        for n in ["10", "100", "1000"] {
            assert!(svg.contains(&format!(">{n}</text>")), "no x label {n}");
        }
    }

    #[test]
    fn says_so_without_data() {
        assert!(scale_svg(&[]).contains("no data"));
    }
}
