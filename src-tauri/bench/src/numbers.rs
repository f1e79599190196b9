//! Percentiles over measured samples.

/// Nearest-rank percentile (`p` in 0–100) of unsorted samples; `None` when there are none.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied()
}

/// p50, p95, p99 and max, in that order.
pub fn summary(samples: &[f64]) -> Option<[f64; 4]> {
    Some([
        percentile(samples, 50.0)?,
        percentile(samples, 95.0)?,
        percentile(samples, 99.0)?,
        percentile(samples, 100.0)?,
    ])
}

/// The median, for repeated runs.
pub fn median(samples: &[f64]) -> Option<f64> {
    percentile(samples, 50.0)
}
