//! Valid Norwegian fødselsnumre that are not built-in personas: the simulator treats them as
//! interactive customers, who only act when the Control API tells them to (or never).

use std::collections::HashSet;

const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// Mod-11 check digit; `None` when the remainder makes the number impossible (check digit 10).
fn check_digit(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// Appends both check digits to a nine-digit base (DDMMYY + individual number).
fn with_check_digits(base: &str) -> Option<String> {
    let mut digits: Vec<u32> = base
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    let k1 = check_digit(&digits, &W1)?;
    digits.push(k1);
    let k2 = check_digit(&digits, &W2)?;
    digits.push(k2);
    digits.iter().map(|d| char::from_digit(*d, 10)).collect()
}

/// `n` distinct valid numbers for people born in the 1980s (individual numbers 000–499 mean
/// 19xx), skipping every persona of the simulator.
pub fn interactive_nins(n: usize) -> Vec<String> {
    let personas: HashSet<String> = id_desk_simulator::persona::all()
        .into_iter()
        .map(|p| p.person.nin)
        .collect();
    let mut out = Vec::with_capacity(n);
    for year in 80..90 {
        for month in 1..=12 {
            for day in 1..=28 {
                for individual in (100..500).step_by(7) {
                    if out.len() == n {
                        return out;
                    }
                    let base = format!("{day:02}{month:02}{year:02}{individual:03}");
                    if let Some(nin) = with_check_digits(&base) {
                        if !personas.contains(&nin) {
                            out.push(nin);
                        }
                    }
                }
            }
        }
    }
    out
}
