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
    pub use crate::sys::{available_space, current_user_sid, program_data, security_descriptor};

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
        Ok(parsed(path)?.managed_violation())
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
