//! Consent texts with `{placeholders}` (product, price, ...), filled in by staff before signing.

use std::collections::BTreeMap;

use crate::identity::SignText;
use crate::{Error, Result};

/// A named sign-text template. Placeholders are `{word}` with letters, digits and `_`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub(crate) name: String,
    pub(crate) text: String,
}

impl Template {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The placeholder names in order of first appearance.
    pub fn placeholders(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in scan(&self.text).into_iter().filter_map(|p| p.name) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Fills every placeholder and validates the result as a sign text. A placeholder without a
    /// value is an error naming it (field `text`).
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<SignText> {
        let mut out = String::with_capacity(self.text.len());
        for piece in scan(&self.text) {
            match piece.name {
                Some(name) => match values.get(&name) {
                    Some(v) => out.push_str(v),
                    None => {
                        return Err(Error::invalid_input(
                            "text",
                            format!("the placeholder {{{name}}} has no value"),
                        ))
                    }
                },
                None => out.push_str(&piece.literal),
            }
        }
        SignText::parse(&out)
    }
}

struct Piece {
    literal: String,
    name: Option<String>,
}

/// Splits a text into literals and `{name}` placeholders. A `{` not followed by a valid name and
/// `}` is literal text.
fn scan(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close
            .map(|c| &after[..c])
            .filter(|n| !n.is_empty() && n.chars().all(|ch| ch.is_alphanumeric() || ch == '_'));
        match (name, close) {
            (Some(name), Some(c)) => {
                pieces.push(Piece {
                    literal: rest[..open].to_string(),
                    name: None,
                });
                pieces.push(Piece {
                    literal: String::new(),
                    name: Some(name.to_string()),
                });
                rest = &after[c + 1..];
            }
            _ => {
                pieces.push(Piece {
                    literal: rest[..open + 1].to_string(),
                    name: None,
                });
                rest = after;
            }
        }
    }
    pieces.push(Piece {
        literal: rest.to_string(),
        name: None,
    });
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Template {
        Template {
            name: "loan".into(),
            text: text.into(),
        }
    }

    #[test]
    fn finds_and_fills_placeholders() {
        let tpl = t("I agree to buy {product} for {price} NOK. {product} again; {not a name} {}");
        assert_eq!(tpl.placeholders(), ["product", "price"]);
        let values: BTreeMap<String, String> = [("product", "a bike"), ("price", "4 990")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            tpl.render(&values).unwrap().as_str(),
            "I agree to buy a bike for 4 990 NOK. a bike again; {not a name} {}"
        );
    }

    #[test]
    fn missing_value_names_the_placeholder() {
        let e = t("Pay {price}").render(&BTreeMap::new()).unwrap_err();
        assert_eq!(e.field(), Some("text"));
        assert_eq!(e.to_string(), "text: the placeholder {price} has no value");
    }

    #[test]
    fn unicode_and_unbalanced_braces_do_not_panic() {
        let tpl = t("{å} {ø {æ}} }{ {");
        assert_eq!(tpl.placeholders(), ["å", "æ"]);
        let values = [("å", "1"), ("æ", "2")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(tpl.render(&values).unwrap().as_str(), "1 {ø 2} }{ {");
    }
}
