//! What the Identify screen offers, grouped by where the customer is, so a new agent does not have
//! to guess between equal tiles: *on the phone*, *at the counter*, *own eID on this screen*, and
//! the methods production retired last (only when the profile offers them). Within a group the
//! profile's countries decide the order.

use serde::Serialize;

use crate::flow::Method;
use crate::profile::Profile;

/// Where the customer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// On the phone with staff: the order goes to their phone by identity number.
    Phone,
    /// At the counter: they scan a QR code (staff screen or customer display) or show their ID card.
    Counter,
    /// They use their own eID on this desk's screen (a provider's page, or BankID on this device).
    OwnEid,
    /// Methods production retired, kept for practice.
    Legacy,
}

/// One method tile. `id` is what the window sends back: a method, or `redirect:<provider>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodTile {
    pub id: String,
    pub method: Method,
    /// `NO`, `SE`, or `None` (an eID of another country, or CIBA without a country).
    pub country: Option<&'static str>,
    /// When production stopped running it (`YYYY-MM-DD`); `None` for a usable method.
    pub retired_since: Option<&'static str>,
    /// The methods to use instead of a retired one.
    pub instead: Vec<Method>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodGroup {
    pub situation: Situation,
    pub methods: Vec<MethodTile>,
}

fn tile(method: Method, country: Option<&'static str>) -> MethodTile {
    let retired = method.retirement();
    MethodTile {
        id: method.as_str().to_string(),
        method,
        country,
        retired_since: retired.map(|r| r.since),
        instead: retired.map(|r| r.instead.to_vec()).unwrap_or_default(),
    }
}

/// Every method production retired (identification and signing), labelled.
pub fn retired_methods() -> Vec<MethodTile> {
    [
        Method::NbidMobile,
        Method::NbidInapp,
        Method::SbidInapp,
        Method::NbidSign,
        Method::SbidSign,
    ]
    .into_iter()
    .map(|m| tile(m, None))
    .filter(|t| t.retired_since.is_some())
    .collect()
}

/// The identification methods `profile` can run, grouped; empty groups are left out.
pub fn identify_groups(profile: &Profile) -> Vec<MethodGroup> {
    let rest = profile.rest().is_some();
    let ciba_country = profile.ciba().map(|c| match c.country.as_deref() {
        Some("SE") => Some("SE"),
        Some("NO") => Some("NO"),
        _ => None,
    });
    let mut phone = Vec::new();
    let mut counter = Vec::new();
    let mut own = Vec::new();
    let mut legacy = Vec::new();
    if rest {
        phone.push(tile(Method::NbidSafeConversation, Some("NO")));
        phone.push(tile(Method::SbidPhone, Some("SE")));
        // Swedish QR and app launch need the desk's public IP.
        if profile.sbid().is_some() {
            counter.push(tile(Method::SbidQr, Some("SE")));
            own.push(tile(Method::SbidAppLaunch, Some("SE")));
        }
        counter.push(tile(Method::SbidIdCard, Some("SE")));
        for p in profile.redirect_providers() {
            own.push(MethodTile {
                id: format!("redirect:{}", p.id()),
                ..tile(Method::Redirect, None)
            });
        }
    }
    if let Some(country) = ciba_country {
        phone.push(tile(Method::Ciba, country));
    }
    if profile.legacy_methods() {
        if rest {
            legacy.push(tile(Method::NbidMobile, Some("NO")));
        }
        if profile.oidc().is_some() {
            legacy.push(tile(Method::NbidInapp, Some("NO")));
            legacy.push(tile(Method::SbidInapp, Some("SE")));
        }
    }
    let order = profile.countries();
    let rank = |t: &MethodTile| {
        t.country
            .and_then(|c| order.iter().position(|o| *o == c))
            .unwrap_or(order.len())
    };
    [
        (Situation::Phone, phone),
        (Situation::Counter, counter),
        (Situation::OwnEid, own),
        (Situation::Legacy, legacy),
    ]
    .into_iter()
    .filter(|(_, m)| !m.is_empty())
    .map(|(situation, mut methods)| {
        methods.sort_by_key(rank); // stable: the order above stays within a country
        MethodGroup { situation, methods }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ProfileConfig, RestConfig, SbidConfig};

    fn profile(c: impl FnOnce(&mut ProfileConfig)) -> Profile {
        let mut cfg = ProfileConfig {
            name: "bank".into(),
            rest: Some(RestConfig {
                base_url: "https://api.signicat.com".into(),
                account_id: "a".into(),
                client_id: "c".into(),
                token_url: None,
            }),
            ..ProfileConfig::default()
        };
        c(&mut cfg);
        Profile::validate(&cfg).unwrap()
    }

    fn ids(groups: &[MethodGroup], s: Situation) -> Vec<String> {
        groups
            .iter()
            .find(|g| g.situation == s)
            .map(|g| g.methods.iter().map(|m| m.id.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn grouped_by_situation_ordered_by_country_and_retired_methods_only_when_asked() {
        let no_first = identify_groups(&profile(|_| {}));
        assert_eq!(
            ids(&no_first, Situation::Phone),
            ["nbid_safe_conversation", "sbid_phone"]
        );
        assert_eq!(ids(&no_first, Situation::Counter), ["sbid_idcard"]);
        assert!(ids(&no_first, Situation::Legacy).is_empty());

        let se_first = identify_groups(&profile(|c| {
            c.countries = vec!["SE".into(), "NO".into()];
            c.sbid = Some(SbidConfig {
                end_user_ip: "203.0.113.7".into(),
            });
            c.legacy_methods = true;
        }));
        assert_eq!(
            ids(&se_first, Situation::Phone),
            ["sbid_phone", "nbid_safe_conversation"]
        );
        assert_eq!(
            ids(&se_first, Situation::Counter),
            ["sbid_qr", "sbid_idcard"]
        );
        assert_eq!(ids(&se_first, Situation::OwnEid), ["sbid_app_launch"]);
        let legacy = &se_first.last().unwrap();
        assert_eq!(legacy.situation, Situation::Legacy);
        assert_eq!(legacy.methods[0].id, "nbid_mobile");
        assert_eq!(legacy.methods[0].retired_since, Some("2024-09-01"));
        assert_eq!(legacy.methods[0].instead, [Method::NbidSafeConversation]);
    }
}
