//! Security descriptors as Windows writes them in SDDL (`O:BAD:P(A;OICI;FA;;;SY)…`), and the two
//! rules the desk applies to them. Plain Rust, so the rules are tested on every platform; only
//! reading and writing a file's descriptor needs Windows (`crate::sys`).
//!
//! The rules:
//! - **Managed** (the IT department's `%ProgramData%\ID Desk`, its `policy.toml` and
//!   `profiles\*.toml`; review finding N-1): owned by SYSTEM, Administrators or TrustedInstaller,
//!   and no access-control entry that applies to the object lets anyone else change it.
//! - **Private** (the vault, the logs): every entry that applies grants the user alone. The desk
//!   writes a protected list on its folders (nothing inherited from `%LOCALAPPDATA%`, which hands
//!   SYSTEM and Administrators full control); the files inside inherit that list.

use std::fmt;

/// `S-1-5-18`.
pub const SYSTEM: &str = "S-1-5-18";
/// `S-1-5-32-544`, BUILTIN\Administrators.
pub const ADMINISTRATORS: &str = "S-1-5-32-544";
/// `S-1-5-32-545`, BUILTIN\Users.
pub const USERS: &str = "S-1-5-32-545";
/// NT SERVICE\TrustedInstaller (Windows' own files).
pub const TRUSTED_INSTALLER: &str =
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
/// CREATOR OWNER: only ever meaningful in an inherit-only entry.
const CREATOR_OWNER: &str = "S-1-3-0";
/// OWNER RIGHTS: the object's owner, whoever that is (checked separately).
const OWNER_RIGHTS: &str = "S-1-3-4";

/// What the desk's installer (and `id-desk-cli system-dir protect`) writes on the managed
/// directory: owned by Administrators; SYSTEM and Administrators may change it, Users may read
/// and list it (read and execute, `0x1200a9`); nothing inherited from `C:\ProgramData`, whose
/// own list lets every user create folders and files.
pub const MANAGED: &str = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)";

/// The list for a directory of the user's own: full control for that SID alone, inherited by
/// everything created inside, nothing inherited from above.
pub fn private_dacl(user_sid: &str) -> String {
    format!("D:P(A;OICI;FA;;;{user_sid})")
}

/// Every right that changes an object or what is in it: write data / add file, append / add
/// subdirectory, write extended attributes, delete child, write attributes, delete, write DACL,
/// write owner, generic write, generic all, and maximum allowed.
const CHANGE_RIGHTS: u32 = 0x0000_0002
    | 0x0000_0004
    | 0x0000_0010
    | 0x0000_0040
    | 0x0000_0100
    | 0x0001_0000
    | 0x0004_0000
    | 0x0008_0000
    | 0x0200_0000
    | 0x1000_0000
    | 0x4000_0000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AceKind {
    /// `A`, `OA`, `XA`, `ZA`: grants.
    Allow,
    /// `D`, `OD`, `XD`: denies.
    Deny,
    /// Audit, alarm, label, …: neither grants nor denies.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    pub kind: AceKind,
    /// `IO`: applies only to what is created inside, not to the object itself.
    pub inherit_only: bool,
    /// `OI`/`CI`: passed on to files/subdirectories created inside.
    pub inheritable: bool,
    pub mask: u32,
    /// A full SID (`S-1-…`); the well-known aliases are expanded.
    pub sid: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub owner: Option<String>,
    /// `None`: no list at all, which in Windows means everyone has full control.
    pub dacl: Option<Dacl>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dacl {
    /// `P`: nothing inherited from the parent.
    pub protected: bool,
    pub aces: Vec<Ace>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unreadable security descriptor: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

impl Descriptor {
    /// Parses the owner (`O:`) and DACL (`D:`) parts; the group (`G:`) and SACL (`S:`) are read
    /// past.
    pub fn parse(text: &str) -> Result<Descriptor, ParseError> {
        let mut owner = None;
        let mut dacl = None;
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (tag, body) = rest
                .split_at_checked(2)
                .ok_or_else(|| ParseError(format!("truncated at {rest:?}")))?;
            let end = next_part(body);
            let (part, tail) = body.split_at(end);
            match tag {
                "O:" => owner = Some(sid(part)?),
                "G:" => {}
                "D:" => dacl = Some(parse_acl(part)?),
                "S:" => {}
                other => return Err(ParseError(format!("unknown part {other:?}"))),
            }
            rest = tail;
        }
        // `D:NO_ACCESS_CONTROL` and a missing `D:` both mean "no list".
        Ok(Descriptor {
            owner,
            dacl: dacl.flatten(),
        })
    }

    /// Why this descriptor is not one IT alone controls; `None` when it is.
    pub fn managed_violation(&self) -> Option<String> {
        self.managed_violation_trusting(None)
    }

    /// As [`Self::managed_violation`], with `also` (a test suite's own account) trusted like an
    /// administrator.
    pub fn managed_violation_trusting(&self, also: Option<&str>) -> Option<String> {
        let trusted = |sid: &str| is_admin(sid) || Some(sid) == also;
        match self.owner.as_deref() {
            Some(o) if trusted(o) => {}
            Some(o) => {
                return Some(format!(
                    "it is owned by {}, not by Administrators or SYSTEM",
                    name(o)
                ))
            }
            None => return Some("its owner cannot be read".into()),
        }
        let Some(dacl) = &self.dacl else {
            return Some("it has no access list, so everyone may change it".into());
        };
        dacl.aces
            .iter()
            .filter(|a| a.kind == AceKind::Allow && !a.inherit_only)
            .filter(|a| a.mask & CHANGE_RIGHTS != 0)
            .find(|a| !trusted(&a.sid) && a.sid != OWNER_RIGHTS)
            .map(|a| format!("it lets {} change it", name(&a.sid)))
    }

    /// Why this descriptor is not private to `user_sid`; `None` when it is.
    pub fn private_violation(&self, user_sid: &str) -> Option<String> {
        let Some(dacl) = &self.dacl else {
            return Some("it has no access list, so everyone may read it".into());
        };
        dacl.aces
            .iter()
            .filter(|a| a.kind == AceKind::Allow && !a.inherit_only && a.mask != 0)
            .find(|a| a.sid != user_sid && a.sid != OWNER_RIGHTS)
            .map(|a| format!("it lets {} read it", name(&a.sid)))
    }
}

fn is_admin(sid: &str) -> bool {
    sid == SYSTEM || sid == ADMINISTRATORS || sid == TRUSTED_INSTALLER
}

/// A SID as staff and IT read it in an error message.
fn name(sid: &str) -> String {
    let known = match sid {
        USERS => "BUILTIN\\Users",
        SYSTEM => "SYSTEM",
        ADMINISTRATORS => "BUILTIN\\Administrators",
        "S-1-1-0" => "Everyone",
        "S-1-5-11" => "Authenticated Users",
        "S-1-5-4" => "INTERACTIVE",
        CREATOR_OWNER => "CREATOR OWNER",
        _ => return sid.to_string(),
    };
    format!("{known} ({sid})")
}

/// Where the next `X:` part starts: the next part tag outside parentheses.
fn next_part(body: &str) -> usize {
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            // `S-1-…` SIDs contain no ':'; `O:`/`G:` bodies are a SID, so a tag is only ever at
            // the start of a part.
            b'O' | b'G' | b'D' | b'S' if depth == 0 && i > 0 && bytes.get(i + 1) == Some(&b':') => {
                return i;
            }
            _ => {}
        }
    }
    body.len()
}

/// `P(A;…)(D;…)`, or `NO_ACCESS_CONTROL` (`None`).
fn parse_acl(part: &str) -> Result<Option<Dacl>, ParseError> {
    let flags_end = part.find('(').unwrap_or(part.len());
    let (flags, mut aces_text) = part.split_at(flags_end);
    if flags.contains("NO_ACCESS_CONTROL") {
        return Ok(None);
    }
    let protected = flags.contains('P');
    let mut aces = Vec::new();
    while let Some(body) = aces_text.strip_prefix('(') {
        let close = body
            .find(')')
            .ok_or_else(|| ParseError("an entry has no closing parenthesis".into()))?;
        aces.push(parse_ace(&body[..close])?);
        aces_text = &body[close + 1..];
    }
    if !aces_text.is_empty() {
        return Err(ParseError(format!(
            "unexpected {aces_text:?} after the entries"
        )));
    }
    Ok(Some(Dacl { protected, aces }))
}

fn parse_ace(text: &str) -> Result<Ace, ParseError> {
    let fields: Vec<&str> = text.split(';').collect();
    let [kind, flags, rights, _object, _inherited_object, account, ..] = fields[..] else {
        return Err(ParseError(format!("entry ({text}) has too few fields")));
    };
    let kind = match kind {
        "A" | "OA" | "XA" | "ZA" => AceKind::Allow,
        "D" | "OD" | "XD" => AceKind::Deny,
        other => AceKind::Other(other.to_string()),
    };
    let flag = |f: &str| flags.as_bytes().chunks(2).any(|c| c == f.as_bytes());
    Ok(Ace {
        kind,
        inherit_only: flag("IO"),
        inheritable: flag("OI") || flag("CI"),
        mask: mask(rights)?,
        sid: sid(account)?,
    })
}

/// A rights field: hexadecimal (`0x1200a9`) or two-letter tokens (`FA`, `CCDCLC…`).
fn mask(text: &str) -> Result<u32, ParseError> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16)
            .map_err(|_| ParseError(format!("rights {text:?} are not hexadecimal")));
    }
    if !text.is_ascii() || !text.len().is_multiple_of(2) {
        return Err(ParseError(format!("rights {text:?} are not SDDL tokens")));
    }
    text.as_bytes().chunks(2).try_fold(0u32, |acc, token| {
        let bits = match token {
            b"GA" => 0x1000_0000,
            b"GR" => 0x8000_0000,
            b"GW" => 0x4000_0000,
            b"GX" => 0x2000_0000,
            b"RC" => 0x0002_0000,
            b"SD" => 0x0001_0000,
            b"WD" => 0x0004_0000,
            b"WO" => 0x0008_0000,
            b"FA" => 0x001f_01ff,
            b"FR" => 0x0012_0089,
            b"FW" => 0x0012_0116,
            b"FX" => 0x0012_00a0,
            b"KA" => 0x000f_003f,
            b"KR" | b"KX" => 0x0002_0019,
            b"KW" => 0x0002_0006,
            b"CC" => 0x0000_0001,
            b"DC" => 0x0000_0002,
            b"LC" => 0x0000_0004,
            b"SW" => 0x0000_0008,
            b"RP" => 0x0000_0010,
            b"WP" => 0x0000_0020,
            b"DT" => 0x0000_0040,
            b"LO" => 0x0000_0080,
            b"CR" => 0x0000_0100,
            other => {
                return Err(ParseError(format!(
                    "unknown right {:?}",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        Ok(acc | bits)
    })
}

/// A SID or one of SDDL's two-letter aliases, as a full SID. An alias not listed here is kept as
/// it is: it is then never taken for an administrator.
fn sid(text: &str) -> Result<String, ParseError> {
    if text.starts_with("S-") {
        return Ok(text.to_string());
    }
    let full = match text {
        "SY" => SYSTEM,
        "BA" => ADMINISTRATORS,
        "BU" => USERS,
        "WD" => "S-1-1-0",
        "AU" => "S-1-5-11",
        "IU" => "S-1-5-4",
        "CO" => CREATOR_OWNER,
        "OW" => OWNER_RIGHTS,
        "BG" => "S-1-5-32-546",
        "PU" => "S-1-5-32-547",
        "AN" => "S-1-5-7",
        "NU" => "S-1-5-2",
        "LS" => "S-1-5-19",
        "NS" => "S-1-5-20",
        "AC" => "S-1-15-2-1",
        "" => return Err(ParseError("an empty account".into())),
        other => other,
    };
    Ok(full.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "S-1-5-21-1004336348-1177238915-682003330-1001";

    fn parse(text: &str) -> Descriptor {
        match Descriptor::parse(text) {
            Ok(d) => d,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn what_the_installer_writes_is_managed() {
        let d = parse(MANAGED);
        assert_eq!(d.owner.as_deref(), Some(ADMINISTRATORS));
        assert_eq!(d.managed_violation(), None);
        assert!(d
            .dacl
            .as_ref()
            .is_some_and(|a| a.protected && a.aces.len() == 3));
    }

    #[test]
    fn a_trusted_test_account_counts_as_an_administrator_and_no_one_else_does() {
        let mine = format!("O:{USER}D:(A;OICI;FA;;;SY)(A;OICI;FA;;;{USER})(A;OICI;0x1200a9;;;WD)");
        let d = parse(&mine);
        assert!(d.managed_violation().is_some());
        assert_eq!(d.managed_violation_trusting(Some(USER)), None);
        let other = "S-1-5-21-1004336348-1177238915-682003330-1002";
        assert!(d.managed_violation_trusting(Some(other)).is_some());
    }

    #[test]
    fn a_folder_a_user_made_in_programdata_is_not_managed() {
        // What `C:\ProgramData\ID Desk` looks like when a user created it: owned by them, the
        // inherited Users "create files / folders" entries applying to it.
        let planted = format!(
            "O:{USER}G:{USER}D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)\
             (A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)"
        );
        let why = parse(&planted).managed_violation().unwrap_or_default();
        assert!(why.contains("owned by") && why.contains(USER), "{why}");
    }

    #[test]
    fn an_admin_owned_folder_with_the_inherited_programdata_list_is_not_managed() {
        // IT created the folder, but kept C:\ProgramData's inherited list: every user may still
        // create files in it (WD/AD = 0x2/0x4) — and plant a policy.toml.
        let inherited = "O:BAG:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)\
                         (A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)";
        let why = parse(inherited).managed_violation().unwrap_or_default();
        assert!(why.contains("BUILTIN\\Users"), "{why}");
    }

    #[test]
    fn inherit_only_and_deny_entries_do_not_count_against_the_object() {
        let d = parse("O:SYD:P(A;OICIIO;GA;;;CO)(D;;FA;;;WD)(A;;FA;;;SY)(A;;FR;;;AU)");
        assert_eq!(d.managed_violation(), None);
    }

    #[test]
    fn every_way_of_spelling_write_is_write() {
        for rights in [
            "FA", "FW", "GA", "GW", "WD", "WO", "SD", "DC", "LC", "0x2", "0x10000",
        ] {
            let d = parse(&format!("O:BAD:P(A;;FA;;;SY)(A;;{rights};;;AU)"));
            let why = d.managed_violation().unwrap_or_default();
            assert!(why.contains("Authenticated Users"), "{rights}: {why}");
        }
        for rights in ["FR", "FX", "0x1200a9", "GR", "GX", "RC"] {
            let d = parse(&format!("O:BAD:P(A;;FA;;;SY)(A;;{rights};;;AU)"));
            assert_eq!(d.managed_violation(), None, "{rights}");
        }
    }

    #[test]
    fn no_list_means_everyone_may_write() {
        for text in ["O:BA", "O:BAD:NO_ACCESS_CONTROL"] {
            let why = parse(text).managed_violation().unwrap_or_default();
            assert!(why.contains("no access list"), "{text}: {why}");
        }
    }

    #[test]
    fn trusted_installer_and_system_own_windows_files() {
        assert_eq!(
            parse(&format!(
                "O:{TRUSTED_INSTALLER}D:P(A;;FA;;;{TRUSTED_INSTALLER})(A;;FR;;;BU)"
            ))
            .managed_violation(),
            None
        );
    }

    #[test]
    fn the_private_list_is_private_and_an_inherited_one_is_not() {
        let private = parse(&format!("O:{USER}{}", private_dacl(USER)));
        assert_eq!(private.private_violation(USER), None);
        let other = "S-1-5-21-1004336348-1177238915-682003330-1002";
        let why = private.private_violation(other).unwrap_or_default();
        assert!(why.contains(USER), "{why}");
        // What %LOCALAPPDATA% hands down: SYSTEM and Administrators too, inherited.
        let inherited =
            format!("O:{USER}D:(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{USER})");
        let why = parse(&inherited)
            .private_violation(USER)
            .unwrap_or_default();
        assert!(why.contains("SYSTEM (S-1-5-18)"), "{why}");
        // A file in a private folder inherits the folder's list: still private.
        let file = format!("O:{USER}D:(A;ID;FA;;;{USER})");
        assert_eq!(parse(&file).private_violation(USER), None);
    }

    #[test]
    fn malformed_descriptors_are_errors_not_panics() {
        for text in [
            "X:BA",
            "O",
            "D:P(A;;FA;;",
            "D:P(A;;ZZ;;;SY)",
            "D:P(A;;0xZZ;;;SY)",
            "D:P(A;;FA)",
            "D:P(A;;FA;;;SY)junk",
            "O:",
        ] {
            assert!(Descriptor::parse(text).is_err(), "{text}");
        }
    }
}
