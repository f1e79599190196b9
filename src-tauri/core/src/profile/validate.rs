//! The checks behind `Profile::validate`. Each error names the field with its dotted TOML path.

use std::net::IpAddr;

use url::{Host, Url};

use super::{
    CibaConfig, CibaSettings, OidcConfig, OidcSettings, Profile, ProfileConfig, RestConfig,
    RestSettings, SbidSettings, Template, TRAINING,
};
use crate::ciba::ClientAuthMethod;
use crate::rest::RedirectProvider;
use crate::{Error, Result};

pub(super) fn profile(c: &ProfileConfig) -> Result<Profile> {
    name(&c.name)?;
    if c.rest.is_none() && c.oidc.is_none() && c.ciba.is_none() {
        return Err(Error::invalid_config(
            "rest",
            "the profile needs a [rest], an [oidc] or a [ciba] section",
        ));
    }
    let rest = c.rest.as_ref().map(rest).transpose()?;
    let oidc = c.oidc.as_ref().map(oidc).transpose()?;
    let ciba = c.ciba.as_ref().map(ciba).transpose()?;
    let sbid = c
        .sbid
        .as_ref()
        .map(|s| {
            s.end_user_ip
                .trim()
                .parse::<IpAddr>()
                .map(|end_user_ip| SbidSettings { end_user_ip })
                .map_err(|_| {
                    Error::invalid_config("sbid.end_user_ip", "must be an IPv4 or IPv6 address")
                })
        })
        .transpose()?;
    let templates = templates(&c.templates, "templates")?;
    let sbid_phone = c
        .sbid_phone
        .as_ref()
        .map(|p| sbid_phone(p, c.rest.is_some()))
        .transpose()?
        .unwrap_or_default();
    let archive = c
        .archive
        .as_ref()
        .map(super::ArchiveSettings::validate)
        .transpose()?;
    let redirect = c
        .redirect
        .as_ref()
        .map(|r| redirect(r, c.rest.is_some()))
        .transpose()?
        .unwrap_or_default();
    let redirect_origins = c
        .redirect
        .as_ref()
        .map(|r| redirect_origins(r, &redirect))
        .transpose()?
        .unwrap_or_default();
    let sign = c
        .sign
        .as_ref()
        .map(|s| sign(s, rest.as_ref().map(|r| &r.base_url)))
        .transpose()?;
    plain_http_only_for_tests(c)?;
    Ok(Profile {
        archive,
        redirect,
        redirect_origins,
        sign,
        sbid_phone,
        legacy_methods: c.legacy_methods,
        countries: countries(&c.countries)?,
        retention: retention(c.retention.as_ref())?,
        name: c.name.clone(),
        allow_test_identities: c.allow_test_identities,
        language: c.language,
        rest,
        oidc,
        sbid,
        ciba,
        templates,
    })
}

/// Plain `http` to this machine is a simulator's; the desk talks to it only in a test profile
/// (`allow_test_identities`), so a profile that serves real customers cannot be pointed at
/// whatever listens on a local port (review L-5). The OIDC `redirect_uri` is never fetched and is
/// not judged here.
fn plain_http_only_for_tests(c: &ProfileConfig) -> Result<()> {
    if c.allow_test_identities {
        return Ok(());
    }
    let mut urls: Vec<(String, &str)> = Vec::new();
    if let Some(r) = &c.rest {
        urls.push(("rest.base_url".into(), &r.base_url));
        if let Some(t) = &r.token_url {
            urls.push(("rest.token_url".into(), t));
        }
    }
    if let Some(o) = &c.oidc {
        urls.push(("oidc.issuer".into(), &o.issuer));
    }
    if let Some(ci) = &c.ciba {
        urls.push(("ciba.issuer".into(), &ci.issuer));
    }
    if let Some(u) = c.sign.as_ref().and_then(|s| s.base_url.as_ref()) {
        urls.push(("sign.base_url".into(), u));
    }
    for (provider, list) in c.redirect.iter().flat_map(|r| &r.origins) {
        for (i, raw) in list.iter().enumerate() {
            urls.push((format!("redirect.origins.{provider}[{i}]"), raw));
        }
    }
    for (field, raw) in urls {
        if Url::parse(raw.trim()).is_ok_and(|u| u.scheme() == "http") {
            return Err(Error::invalid_config(
                field,
                "plain http (to this machine) is only for a test profile on a simulator: \
                 use https, or set allow_test_identities = true",
            ));
        }
    }
    Ok(())
}

/// `[retention]`: whole days from 1 to 100 years; a missing key takes its default.
pub(crate) fn retention(c: Option<&super::RetentionConfig>) -> Result<super::RetentionSettings> {
    let d = super::RetentionSettings::default();
    let Some(c) = c else { return Ok(d) };
    let days = |v: Option<u32>, default: u32, field: &str| -> Result<u32> {
        match v {
            None => Ok(default),
            Some(n) if (1..=36_500).contains(&n) => Ok(n),
            Some(_) => Err(Error::invalid_config(
                format!("retention.{field}"),
                "must be a number of days from 1 to 36500",
            )),
        }
    };
    Ok(super::RetentionSettings {
        after_archive_days: days(
            c.after_archive_days,
            d.after_archive_days,
            "after_archive_days",
        )?,
        without_archive_days: days(
            c.without_archive_days,
            d.without_archive_days,
            "without_archive_days",
        )?,
        unsuccessful_days: days(
            c.unsuccessful_days,
            d.unsuccessful_days,
            "unsuccessful_days",
        )?,
    })
}

/// `[redirect.origins]`: for a configured provider, origins only (`https://host[:port]`, plain
/// http on loopback), each named by its field when wrong.
fn redirect_origins(
    c: &super::RedirectConfig,
    providers: &[RedirectProvider],
) -> Result<std::collections::BTreeMap<String, Vec<Url>>> {
    let mut out = std::collections::BTreeMap::new();
    for (provider, list) in &c.origins {
        let field = format!("redirect.origins.{provider}");
        if !providers.iter().any(|p| p.id() == provider) {
            return Err(Error::invalid_config(
                field,
                "is not one of redirect.providers",
            ));
        }
        let mut urls = Vec::new();
        for (i, raw) in list.iter().enumerate() {
            let field = format!("{field}[{i}]");
            let u = Url::parse(raw.trim())
                .map_err(|e| Error::invalid_config(field.clone(), e.to_string()))?;
            let secure = u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u));
            if !secure || u.host_str().is_none() {
                return Err(Error::invalid_config(
                    field,
                    "must be an https origin (plain http only on this machine)",
                ));
            }
            let credentials = !u.username().is_empty() || u.password().is_some();
            if u.path() != "/" || u.query().is_some() || u.fragment().is_some() || credentials {
                return Err(Error::invalid_config(
                    field,
                    "must be an origin only, such as https://mitid.dk (no path, query or user)",
                ));
            }
            urls.push(u);
        }
        out.insert(provider.clone(), urls);
    }
    Ok(out)
}

/// `countries`: `NO` or `SE`, each once.
fn countries(list: &[String]) -> Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        let field = format!("countries[{i}]");
        let c = match raw.trim() {
            "NO" | "no" => "NO",
            "SE" | "se" => "SE",
            _ => return Err(Error::invalid_config(field, "must be NO or SE")),
        };
        if out.contains(&c) {
            return Err(Error::invalid_config(field, "is listed twice"));
        }
        out.push(c);
    }
    Ok(out)
}

/// `[sbid_phone]`: every intention text valid as BankID will show it; needs `[rest]`.
fn sbid_phone(c: &super::SbidPhoneConfig, has_rest: bool) -> Result<super::SbidPhoneSettings> {
    if !has_rest {
        return Err(Error::invalid_config(
            "sbid_phone",
            "Swedish BankID Phone uses the Authentication REST API: add a [rest] section",
        ));
    }
    let intentions = templates(&c.intentions, "sbid_phone.intentions")?;
    for (i, t) in intentions.iter().enumerate() {
        crate::identity::IntentionText::parse(&t.text).map_err(|e| {
            Error::invalid_config(format!("sbid_phone.intentions[{i}].text"), e.to_string())
        })?;
    }
    Ok(super::SbidPhoneSettings {
        options: crate::rest::protocol::SbidPhoneOptions {
            extra_control: c.extra_control,
            return_risk: c.return_risk,
        },
        intentions,
    })
}

/// Named texts (`[[templates]]`, `[[sbid_phone.intentions]]`): names unique and not empty, texts
/// not empty.
fn templates(list: &[super::TemplateConfig], key: &str) -> Result<Vec<Template>> {
    let mut templates: Vec<Template> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let tname = t.name.trim();
        if tname.is_empty() {
            return Err(Error::invalid_config(
                format!("{key}[{i}].name"),
                "is empty",
            ));
        }
        if templates.iter().any(|x| x.name == tname) {
            return Err(Error::invalid_config(
                format!("{key}[{i}].name"),
                "another template has the same name",
            ));
        }
        if t.text.trim().is_empty() {
            return Err(Error::invalid_config(
                format!("{key}[{i}].text"),
                "is empty",
            ));
        }
        templates.push(Template {
            name: tname.to_string(),
            text: t.text.clone(),
        });
    }
    Ok(templates)
}

/// `[redirect] providers`: known Signicat provider ids, at least one, no repeats; the flow is
/// a REST one, so the profile needs `[rest]`.
fn redirect(c: &super::RedirectConfig, has_rest: bool) -> Result<Vec<RedirectProvider>> {
    if !has_rest {
        return Err(Error::invalid_config(
            "redirect",
            "the redirect flow uses the Authentication REST API: add a [rest] section",
        ));
    }
    if c.providers.is_empty() {
        return Err(Error::invalid_config(
            "redirect.providers",
            "name at least one provider, e.g. [\"mitid\"]",
        ));
    }
    let mut out: Vec<RedirectProvider> = Vec::new();
    for (i, raw) in c.providers.iter().enumerate() {
        let field = format!("redirect.providers[{i}]");
        let p = RedirectProvider::parse(raw, &field).map_err(|e| match e {
            Error::InvalidInput { field, reason } => Error::InvalidConfig { field, reason },
            other => other,
        })?;
        if out.contains(&p) {
            return Err(Error::invalid_config(field, "is listed twice"));
        }
        out.push(p);
    }
    Ok(out)
}

/// `[sign]`: known setups, `link` with at least one provider, sane limits; served to the `[rest]`
/// API client, so the profile needs `[rest]`.
fn sign(c: &super::SignConfig, rest_base: Option<&Url>) -> Result<super::SignSettings> {
    let Some(rest_base) = rest_base else {
        return Err(Error::invalid_config(
            "sign",
            "Sign API v2 uses the [rest] API client: add a [rest] section",
        ));
    };
    let base_url = match &c.base_url {
        Some(u) => url("sign.base_url", u)?,
        None => rest_base.clone(),
    };
    let mut setups = crate::sign::SignSetups::default();
    let mut link = false;
    for (i, raw) in c.setups.iter().enumerate() {
        let field = format!("sign.setups[{i}]");
        let flag = match raw.trim() {
            "sbid-phone" => &mut setups.sbid_phone,
            "nbid-pki" => &mut setups.nbid_pki,
            "link" => &mut link,
            other => {
                return Err(Error::invalid_config(
                    field,
                    format!("unknown signing setup '{other}' (known: sbid-phone, nbid-pki, link)"),
                ))
            }
        };
        if *flag {
            return Err(Error::invalid_config(field, "is listed twice"));
        }
        *flag = true;
    }
    if c.setups.is_empty() {
        return Err(Error::invalid_config(
            "sign.setups",
            "name at least one setup, e.g. [\"sbid-phone\"]",
        ));
    }
    for (i, p) in c.link_providers.iter().enumerate() {
        let p = p.trim();
        let field = format!("sign.link_providers[{i}]");
        if p.is_empty()
            || p == crate::sign::LinkProvider::NBID_PKI
            || !p
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return Err(Error::invalid_config(
                field,
                "a Signicat identity provider name (lower case, e.g. mitid)",
            ));
        }
        if setups.link_providers.iter().any(|x| x == p) {
            return Err(Error::invalid_config(field, "is listed twice"));
        }
        setups.link_providers.push(p.to_string());
    }
    let has_providers = !setups.link_providers.is_empty();
    if link != has_providers {
        return Err(Error::invalid_config(
            "sign.link_providers",
            "give the providers exactly when the setups include link",
        ));
    }
    let max_document_bytes = c
        .max_document_bytes
        .unwrap_or(crate::sign::SignConfig::DEFAULT_MAX_DOCUMENT_BYTES);
    if !(1024..=100 * 1024 * 1024).contains(&max_document_bytes) {
        return Err(Error::invalid_config(
            "sign.max_document_bytes",
            "must be between 1 KiB and 100 MiB",
        ));
    }
    let minutes = c.due_minutes.unwrap_or(15);
    if !(1..=1440).contains(&minutes) {
        return Err(Error::invalid_config(
            "sign.due_minutes",
            "must be between 1 and 1440",
        ));
    }
    Ok(super::SignSettings {
        base_url,
        setups,
        sender_display_name: c
            .sender_display_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        max_document_bytes,
        lifetime: std::time::Duration::from_secs(u64::from(minutes) * 60),
    })
}

/// Profile names become file names and keyring user names: keep them plain.
pub(crate) fn name(name: &str) -> Result<()> {
    let bad = |reason: &str| Err(Error::invalid_config("name", reason));
    if name.is_empty() {
        return bad("is empty");
    }
    if name.chars().count() > 64 {
        return bad("is longer than 64 characters");
    }
    if name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return bad(
            "may contain only letters a-z, digits, '-', '_' and '.', and not start with '.'",
        );
    }
    Ok(())
}

/// Refuses `training` for a stored profile: that name belongs to the built-in simulator profile.
pub(super) fn storable_name(n: &str) -> Result<()> {
    name(n)?;
    if n.eq_ignore_ascii_case(TRAINING) {
        return Err(Error::invalid_config(
            "name",
            "\"training\" is reserved for Training mode",
        ));
    }
    Ok(())
}

fn rest(c: &RestConfig) -> Result<RestSettings> {
    let base_url = url("rest.base_url", &c.base_url)?;
    let token_url = match c.token_url.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => url("rest.token_url", t)?,
        _ => derived_token_url(&base_url)?,
    };
    Ok(RestSettings {
        base_url,
        token_url,
        account_id: id("rest.account_id", &c.account_id)?,
        client_id: id("rest.client_id", &c.client_id)?,
    })
}

fn oidc(c: &OidcConfig) -> Result<OidcSettings> {
    let issuer = c.issuer.trim();
    url("oidc.issuer", issuer)?;
    let sign_client_id = match c.sign_client_id.as_deref() {
        Some(s) if !s.trim().is_empty() => Some(id("oidc.sign_client_id", s)?),
        _ => None,
    };
    Ok(OidcSettings {
        issuer: issuer.to_string(),
        client_id: id("oidc.client_id", &c.client_id)?,
        sign_client_id,
        redirect_uri: url("oidc.redirect_uri", &c.redirect_uri)?,
    })
}

pub(super) const DEFAULT_CIBA_SCOPE: &str = "openid profile";

fn ciba(c: &CibaConfig) -> Result<CibaSettings> {
    let issuer = c.issuer.trim();
    url("ciba.issuer", issuer)?;
    let scope = match c.scope.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => DEFAULT_CIBA_SCOPE.to_string(),
    };
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(Error::invalid_config(
            "ciba.scope",
            "must include openid (the desk needs an ID token)",
        ));
    }
    if let Some(secs) = c.requested_expiry {
        if !(1..=3600).contains(&secs) {
            return Err(Error::invalid_config(
                "ciba.requested_expiry",
                "must be 1–3600 seconds",
            ));
        }
    }
    if c.client_auth != ClientAuthMethod::PrivateKeyJwt
        && (c.signing_alg.is_some() || c.key_id.is_some())
    {
        return Err(Error::invalid_config(
            "ciba.signing_alg",
            "signing_alg and key_id are for client_auth = \"private_key_jwt\"",
        ));
    }
    let prefix = c.login_hint_prefix.clone().unwrap_or_default();
    if prefix.chars().count() > 32
        || prefix
            .chars()
            .any(|ch| ch.is_control() || ch.is_whitespace())
    {
        return Err(Error::invalid_config(
            "ciba.login_hint_prefix",
            "must be at most 32 characters without spaces",
        ));
    }
    let country = match c.country.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(cc) if cc.eq_ignore_ascii_case("NO") || cc.eq_ignore_ascii_case("SE") => {
            Some(cc.to_ascii_uppercase())
        }
        Some(_) => {
            return Err(Error::invalid_config("ciba.country", "must be NO or SE"));
        }
    };
    Ok(CibaSettings {
        issuer: issuer.to_string(),
        client_id: id("ciba.client_id", &c.client_id)?,
        client_auth: c.client_auth,
        signing_alg: c.signing_alg.unwrap_or_default(),
        key_id: c
            .key_id
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        scope,
        acr_values: c
            .acr_values
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        requested_expiry: c.requested_expiry,
        login_hint_kind: c.login_hint_kind,
        login_hint_prefix: prefix,
        country,
        phone_auth: c.phone_auth,
    })
}

/// `{base}/auth/open/connect/token`, keeping any path the base URL has.
pub(super) fn derived_token_url(base: &Url) -> Result<Url> {
    let joined = format!(
        "{}/auth/open/connect/token",
        base.as_str().trim_end_matches('/')
    );
    Url::parse(&joined).map_err(|e| Error::invalid_config("rest.token_url", e.to_string()))
}

/// An absolute http(s) URL; plain `http` only on loopback (the simulator), never across a network.
fn url(field: &str, raw: &str) -> Result<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid_config(field, "is empty"));
    }
    let u = Url::parse(raw)
        .map_err(|e| Error::invalid_config(field, format!("is not a valid URL ({e})")))?;
    match u.scheme() {
        "https" => {}
        "http" if is_loopback(&u) => {}
        "http" => {
            return Err(Error::invalid_config(
                field,
                "must use https (plain http is allowed only on this machine: localhost, 127.0.0.0/8, ::1)",
            ))
        }
        other => {
            return Err(Error::invalid_config(
                field,
                format!("must be an https URL, not {other}:"),
            ))
        }
    }
    if u.host().is_none() {
        return Err(Error::invalid_config(field, "has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::invalid_config(
            field,
            "must not carry a user name or password",
        ));
    }
    Ok(u)
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn id(field: &str, raw: &str) -> Result<String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(Error::invalid_config(field, "is required"));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_config(field, "must not contain spaces"));
    }
    Ok(v.to_string())
}
