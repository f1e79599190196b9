//! What the desk needs of Windows that the Rust standard library and the chosen crates do not
//! give: the ProgramData known folder, file access lists (a vault only its user can read, a
//! managed directory only IT can change), console stop events, free disk space.
//!
//! The rules about access lists are plain Rust in [`sddl`], tested on every platform; the Win32
//! calls are in `sys`, the only module of the workspace with `unsafe`.

pub mod sddl;

#[cfg(windows)]
mod sys;

#[cfg(windows)]
pub use windows_only::*;

#[cfg(windows)]
mod windows_only {
    use std::io;
    use std::path::Path;
    use std::sync::{Mutex, OnceLock};
    use std::time::Duration;

    use crate::sddl::{self, Descriptor};
    pub use crate::sys::{
        available_space, current_user_sid, message_box, program_data, security_descriptor,
        under_wine,
    };

    fn parsed(path: &Path) -> io::Result<Descriptor> {
        let text = crate::sys::security_descriptor(path)?;
        Descriptor::parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Gives `path` a protected access list that lets this user alone in; files and folders
    /// created inside inherit it.
    pub fn make_private(path: &Path) -> io::Result<()> {
        let user = current_user_sid()?;
        crate::sys::set_security(path, &sddl::private_dacl(&user), false)
    }

    /// Why `path` is readable by someone other than this user; `None` when it is private.
    pub fn private_violation(path: &Path) -> io::Result<Option<String>> {
        let user = current_user_sid()?;
        Ok(parsed(path)?.private_violation(&user))
    }

    /// Why `path` is not under IT's control alone; `None` when only SYSTEM and Administrators
    /// own and may change it.
    pub fn managed_violation(path: &Path) -> io::Result<Option<String>> {
        managed_violation_trusting(path, None)
    }

    /// As [`managed_violation`], with the account `also` trusted like an administrator (the
    /// test suites' own, in debug builds).
    pub fn managed_violation_trusting(
        path: &Path,
        also: Option<&str>,
    ) -> io::Result<Option<String>> {
        Ok(parsed(path)?.managed_violation_trusting(also))
    }

    /// Writes [`sddl::MANAGED`] on `path`: owner Administrators, nothing inherited. Needs an
    /// administrator (the per-machine installer).
    pub fn protect_managed(path: &Path) -> io::Result<()> {
        crate::sys::set_security(path, sddl::MANAGED, true)
    }

    /// A console control event that asks the process to stop.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ConsoleStop {
        /// Ctrl+C.
        CtrlC,
        /// Ctrl+Break.
        CtrlBreak,
        /// The console window is being closed.
        Close,
        /// The user logs off.
        Logoff,
        /// Windows shuts down.
        Shutdown,
    }

    impl ConsoleStop {
        fn from_raw(event: u32) -> Option<Self> {
            use windows_sys::Win32::System::Console as c;
            Some(match event {
                c::CTRL_C_EVENT => ConsoleStop::CtrlC,
                c::CTRL_BREAK_EVENT => ConsoleStop::CtrlBreak,
                c::CTRL_CLOSE_EVENT => ConsoleStop::Close,
                c::CTRL_LOGOFF_EVENT => ConsoleStop::Logoff,
                c::CTRL_SHUTDOWN_EVENT => ConsoleStop::Shutdown,
                _ => return None,
            })
        }

        /// Windows ends the process as soon as the handler of these returns: the handler waits
        /// instead, so the process can cancel at Signicat and exit by itself.
        fn ends_the_process(self) -> bool {
            matches!(
                self,
                ConsoleStop::Close | ConsoleStop::Logoff | ConsoleStop::Shutdown
            )
        }
    }

    /// How long a closing console is held open for the process to finish (Windows kills it after
    /// 5 s whatever the handler does).
    const CLOSE_GRACE: Duration = Duration::from_millis(4_500);

    type Listener = Box<dyn Fn(ConsoleStop) + Send + Sync>;

    fn listeners() -> &'static Mutex<Vec<Listener>> {
        static LISTENERS: OnceLock<Mutex<Vec<Listener>>> = OnceLock::new();
        LISTENERS.get_or_init(|| Mutex::new(Vec::new()))
    }

    unsafe extern "system" fn on_event(event: u32) -> windows_sys::core::BOOL {
        let Some(stop) = ConsoleStop::from_raw(event) else {
            return 0;
        };
        let told = match listeners().lock() {
            Ok(list) => {
                list.iter().for_each(|f| f(stop));
                !list.is_empty()
            }
            Err(_) => false,
        };
        if !told {
            return 0;
        }
        if stop.ends_the_process() {
            std::thread::sleep(CLOSE_GRACE);
        }
        1
    }

    /// Calls `listener` (on a thread of Windows') for every console stop event, instead of
    /// Windows ending the process. The first call installs the handler.
    pub fn on_console_stop(
        listener: impl Fn(ConsoleStop) + Send + Sync + 'static,
    ) -> io::Result<()> {
        let mut list = listeners()
            .lock()
            .map_err(|_| io::Error::other("console listeners poisoned"))?;
        if list.is_empty() {
            crate::sys::add_console_handler(on_event)?;
        }
        list.push(Box::new(listener));
        Ok(())
    }
}

/// The Win32 calls themselves, run on Windows or under Wine (`make test-windows`).
#[cfg(all(test, windows))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod windows_tests {
    use super::*;

    #[test]
    fn program_data_comes_from_the_known_folder_not_the_environment() {
        let real = program_data().unwrap();
        // No other test of this crate reads ProgramData.
        std::env::set_var("ProgramData", r"C:\Users\Public\planted");
        let again = program_data().unwrap();
        std::env::remove_var("ProgramData");
        assert_eq!(real, again);
        assert!(real.is_absolute(), "{}", real.display());
        assert!(!real.to_string_lossy().contains("planted"));
    }

    /// Windows keeps the list as written, and hands a folder's down to new files. Wine 8 accepts
    /// the call and keeps only what the Unix mode can say (SYSTEM, the owner, Everyone read), so
    /// there the readback is Wine's, and only the call itself is checked; the rules are checked
    /// on every platform in `sddl`.
    #[test]
    fn a_private_folder_and_file_let_this_user_alone_in() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("Åsa Öberg's vault");
        std::fs::create_dir(&vault).unwrap();
        make_private(&vault).unwrap();
        let file = vault.join("vault.sqlite3");
        std::fs::write(&file, b"x").unwrap();
        make_private(&file).unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            b"x",
            "still readable by its user"
        );
        assert!(make_private(&vault.join("missing")).is_err());
        let sid = current_user_sid().unwrap();
        assert!(sid.starts_with("S-1-5-21-"), "{sid}");
        assert!(security_descriptor(&vault).unwrap().contains(&sid));
        if !under_wine() {
            assert_eq!(private_violation(&vault).unwrap(), None);
            assert_eq!(private_violation(&file).unwrap(), None);
        }
    }

    #[test]
    fn a_folder_this_user_made_is_not_managed() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("ID Desk");
        std::fs::create_dir(&system).unwrap();
        let why = managed_violation(&system).unwrap().unwrap_or_default();
        assert!(why.contains("owned by S-1-5-21-"), "{why}");
    }

    #[test]
    fn this_is_wine_here_and_the_tests_say_so() {
        // `make test-windows` runs under Wine; on a real Windows the readback asserts above run.
        if std::env::var_os("IDDESK_EXPECT_WINE").is_some() {
            assert!(under_wine());
        }
    }

    #[test]
    fn free_space_is_known_for_a_folder_and_an_error_for_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(available_space(dir.path()).unwrap() > 0);
        assert!(available_space(&dir.path().join("missing")).is_err());
    }
}
