//! `[archive]`: the bank's central PostgreSQL archive every desk ships its finished transactions to
//! (issue 17). The file names the server and the database user; the password is a secret and lives
//! in the OS keyring as `archive-password`. TLS is required for every host but this machine's own
//! loopback, and that rule is carried by the type: a non-loopback `ArchiveSettings` can only be
//! built with `ArchiveTls::Required`.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Error, Result};

/// PostgreSQL's port when the URL names none.
pub const DEFAULT_PORT: u16 = 5432;

/// `[archive]` as written in the profile file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// `postgresql://USER@HOST[:PORT]/DATABASE`, without a password.
    pub url: String,
    /// A PEM file with the certificate authority that signed the server's certificate (a bank's
    /// internal CA). Without it the server must present a certificate from a public CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

/// How the connection to the archive is protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArchiveTls {
    /// The server runs on this machine (localhost, 127.0.0.0/8, ::1): plain TCP never leaves it.
    Loopback,
    /// TLS with the server's certificate and host name verified; refused if the server offers none.
    Required { ca_file: Option<PathBuf> },
}

/// A checked `[archive]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveSettings {
    host: String,
    port: u16,
    user: String,
    database: String,
    tls: ArchiveTls,
}

impl ArchiveSettings {
    /// Checks `[archive]`; errors name the field (`archive.url`, `archive.ca_file`).
    pub fn validate(c: &ArchiveConfig) -> Result<ArchiveSettings> {
        let field = "archive.url";
        let bad = |reason: &str| Error::invalid_config(field, reason);
        let raw = c.url.trim();
        if raw.is_empty() {
            return Err(bad("is empty"));
        }
        let u = Url::parse(raw)
            .map_err(|e| Error::invalid_config(field, format!("is not a valid URL ({e})")))?;
        if !matches!(u.scheme(), "postgresql" | "postgres") {
            return Err(bad("must be a postgresql://USER@HOST[:PORT]/DATABASE URL"));
        }
        if u.password().is_some() {
            // A password in a profile file would be a secret on disk.
            return Err(bad(
                "must not carry a password: store it in the OS keyring as archive-password",
            ));
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err(bad(
                "takes no ?options: TLS is always required except on this machine's loopback",
            ));
        }
        let host = u
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("has no host"))?;
        let user = u.username().to_string();
        if user.is_empty() {
            return Err(bad(
                "needs the database user: postgresql://USER@HOST/DATABASE",
            ));
        }
        if !user
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
        {
            return Err(bad(
                "the user may contain only letters a-z, digits, '_', '-' and '.'",
            ));
        }
        let database = u.path().trim_start_matches('/').to_string();
        if database.is_empty() || database.contains('/') {
            return Err(bad(
                "needs the database name: postgresql://USER@HOST/DATABASE",
            ));
        }
        let tls = if is_loopback(&host) {
            ArchiveTls::Loopback
        } else {
            let ca_file = match c.ca_file.as_deref().map(str::trim) {
                Some(f) if !f.is_empty() => {
                    let path = PathBuf::from(f);
                    if !path.is_absolute() {
                        return Err(Error::invalid_config(
                            "archive.ca_file",
                            "must be an absolute path",
                        ));
                    }
                    Some(path)
                }
                _ => None,
            };
            ArchiveTls::Required { ca_file }
        };
        Ok(ArchiveSettings {
            host,
            port: u.port().unwrap_or(DEFAULT_PORT),
            user,
            database,
            tls,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn database(&self) -> &str {
        &self.database
    }
    pub fn tls(&self) -> &ArchiveTls {
        &self.tls
    }

    /// The URL as staff see it in Settings and logs (never a password: there is none in it).
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "postgresql://{}@{host}:{}/{}",
            self.user, self.port, self.database
        )
    }

    /// Who the archive is, as outbox rows name the archive they are owed to (review N-3): the
    /// SHA-256 of the URL (user, host, port, database), hex. Not secret; stable across CA files.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.url().to_ascii_lowercase().as_bytes()))
    }

    /// Back to the file form.
    pub fn to_config(&self) -> ArchiveConfig {
        ArchiveConfig {
            url: self.url(),
            ca_file: match &self.tls {
                ArchiveTls::Required {
                    ca_file: Some(path),
                } => Some(path.to_string_lossy().into_owned()),
                _ => None,
            },
        }
    }
}

/// Only this machine: `localhost`, 127.0.0.0/8, ::1.
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<ArchiveSettings> {
        ArchiveSettings::validate(&ArchiveConfig {
            url: url.into(),
            ca_file: None,
        })
    }

    fn field_of(r: Result<ArchiveSettings>) -> String {
        match r {
            Err(e) => e.field().unwrap_or_default().to_string(),
            Ok(s) => panic!("accepted: {s:?}"),
        }
    }

    #[test]
    fn a_remote_server_always_gets_tls() {
        for url in [
            "postgresql://desk@archive.bank.example/evidence",
            "postgres://desk@10.1.2.3:6432/evidence",
            "postgresql://desk@[2001:db8::7]/evidence",
            // 127.x only when it is the literal loopback; a name is resolved elsewhere.
            "postgresql://desk@localhost.bank.example/evidence",
        ] {
            let s = check(url).unwrap();
            assert_eq!(s.tls(), &ArchiveTls::Required { ca_file: None }, "{url}");
        }
    }

    #[test]
    fn only_loopback_may_go_without_tls() {
        for url in [
            "postgresql://desk@127.0.0.1:5433/evidence",
            "postgresql://desk@127.8.9.10/evidence",
            "postgresql://desk@localhost/evidence",
            "postgresql://desk@[::1]:5433/evidence",
        ] {
            assert_eq!(check(url).unwrap().tls(), &ArchiveTls::Loopback, "{url}");
        }
    }

    #[test]
    fn options_that_could_turn_tls_off_are_refused() {
        for url in [
            "postgresql://desk@archive.bank.example/evidence?sslmode=disable",
            "postgresql://desk@archive.bank.example/evidence?sslmode=prefer",
            "postgresql://desk@archive.bank.example/evidence#x",
        ] {
            assert_eq!(field_of(check(url)), "archive.url", "{url}");
        }
    }

    #[test]
    fn the_password_belongs_in_the_keyring() {
        let e = check("postgresql://desk:hunter2@archive.bank.example/evidence").unwrap_err();
        assert_eq!(e.field(), Some("archive.url"));
        assert!(e.to_string().contains("archive-password"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn scheme_user_host_and_database_are_required() {
        for url in [
            "",
            "https://desk@archive.bank.example/evidence",
            "postgresql://archive.bank.example/evidence",
            "postgresql://desk@archive.bank.example",
            "postgresql://desk@archive.bank.example/a/b",
            "postgresql:///evidence",
            "postgresql://de%20sk@archive.bank.example/evidence",
        ] {
            assert_eq!(field_of(check(url)), "archive.url", "{url:?}");
        }
    }

    /// An absolute path on the platform the test runs on (a drive letter on Windows).
    const ABSOLUTE_CA: &str = if cfg!(windows) {
        r"C:\ProgramData\ID Desk\archive-ca.pem"
    } else {
        "/etc/id-desk/archive-ca.pem"
    };

    #[test]
    fn the_ca_file_must_be_absolute() {
        let r = ArchiveSettings::validate(&ArchiveConfig {
            url: "postgresql://desk@archive.bank.example/evidence".into(),
            ca_file: Some("certs/ca.pem".into()),
        });
        assert_eq!(field_of(r), "archive.ca_file");
        let s = ArchiveSettings::validate(&ArchiveConfig {
            url: "postgresql://desk@archive.bank.example/evidence".into(),
            ca_file: Some(ABSOLUTE_CA.into()),
        })
        .unwrap();
        assert_eq!(
            s.tls(),
            &ArchiveTls::Required {
                ca_file: Some(ABSOLUTE_CA.into())
            }
        );
        assert_eq!(ArchiveSettings::validate(&s.to_config()).unwrap(), s);
    }

    #[test]
    fn a_profile_file_with_an_archive_section() {
        use crate::profile::{Profile, ProfileConfig};
        let base = "name = \"branch-17\"\n[rest]\nbase_url = \"https://api.signicat.com\"\naccount_id = \"a\"\nclient_id = \"c\"\n";
        let ok: ProfileConfig = toml::from_str(&format!(
            "{base}[archive]\nurl = \"postgresql://desk@archive.bank.example/evidence\"\n"
        ))
        .unwrap();
        let p = Profile::validate(&ok).unwrap();
        let a = p.archive().unwrap();
        assert_eq!(a.host(), "archive.bank.example");
        assert_eq!(Profile::validate(&p.to_config()).unwrap(), p);
        // A password pasted into the section is an unknown key, refused like every other one.
        let leaked = toml::from_str::<ProfileConfig>(&format!(
            "{base}[archive]\nurl = \"postgresql://desk@archive.bank.example/evidence\"\npassword = \"hunter2\"\n"
        ));
        assert!(leaked.unwrap_err().to_string().contains("password"));
        let bad: ProfileConfig = toml::from_str(&format!(
            "{base}[archive]\nurl = \"postgresql://desk@archive.bank.example/evidence?sslmode=disable\"\n"
        ))
        .unwrap();
        assert_eq!(
            Profile::validate(&bad).unwrap_err().field(),
            Some("archive.url")
        );
    }

    #[test]
    fn the_display_url_has_the_default_port() {
        let s = check("postgres://desk@archive.bank.example/evidence").unwrap();
        assert_eq!(
            s.url(),
            "postgresql://desk@archive.bank.example:5432/evidence"
        );
        assert_eq!(s.port(), DEFAULT_PORT);
        assert_eq!(s.user(), "desk");
        assert_eq!(s.database(), "evidence");
    }
}
