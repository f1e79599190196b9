//! The Win32 calls, each behind a safe function. Every buffer Windows allocates is freed by a
//! guard; every string handed to Windows is NUL-terminated and checked for inner NULs first.
#![allow(unsafe_code)]

use std::ffi::{c_void, OsStr, OsString};
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::ptr::null_mut;

use windows_sys::core::PWSTR;
use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetNamedSecurityInfoW,
    SetNamedSecurityInfoW, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    GetSecurityDescriptorDacl, GetSecurityDescriptorOwner, GetTokenInformation, TokenUser, ACL,
    DACL_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, PSID, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
use windows_sys::Win32::System::Com::CoTaskMemFree;
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
use windows_sys::Win32::UI::Shell::{FOLDERID_ProgramData, SHGetKnownFolderPath, KF_FLAG_DEFAULT};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    MessageBoxW, MB_ICONERROR, MB_OK, MB_SETFOREGROUND,
};

/// `s` as a NUL-terminated UTF-16 string; an inner NUL would silently cut it short, so it is an
/// error.
fn wide(s: &OsStr) -> io::Result<Vec<u16>> {
    let mut w: Vec<u16> = s.encode_wide().collect();
    if w.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a NUL character inside a path or descriptor",
        ));
    }
    w.push(0);
    Ok(w)
}

/// The UTF-16 string at `p`, up to its NUL (at most `limit` units when given).
///
/// # Safety
/// `p` points at a NUL-terminated UTF-16 string that stays valid for the call.
unsafe fn read_wide(p: *const u16, limit: Option<usize>) -> Vec<u16> {
    let mut len = 0usize;
    while limit.is_none_or(|l| len < l) {
        // SAFETY: the caller guarantees a NUL within the string, so every unit up to it is
        // readable.
        let unit = unsafe { p.add(len) };
        // SAFETY: as above, `unit` is within the string.
        if unsafe { *unit } == 0 {
            break;
        }
        len += 1;
    }
    // SAFETY: `len` units from `p` were just read one by one.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

/// Memory Windows allocated with `LocalAlloc`, freed when dropped.
struct Local(*mut c_void);

impl Drop for Local {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from an API documented to allocate with LocalAlloc and is
            // freed once, here.
            unsafe { LocalFree(self.0) };
        }
    }
}

/// A handle closed when dropped.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by us and is closed once, here.
        unsafe { CloseHandle(self.0) };
    }
}

fn win32(code: u32) -> io::Result<()> {
    match code {
        0 => Ok(()),
        c => Err(io::Error::from_raw_os_error(c as i32)),
    }
}

/// `C:\ProgramData` as Windows knows it (`SHGetKnownFolderPath`), never the `ProgramData`
/// environment variable, which every user may set for themselves.
pub fn program_data() -> io::Result<PathBuf> {
    let mut raw: PWSTR = null_mut();
    // SAFETY: a valid GUID, no token (the current user), and an out pointer we own.
    let hr = unsafe {
        SHGetKnownFolderPath(
            &FOLDERID_ProgramData,
            KF_FLAG_DEFAULT as u32,
            null_mut(),
            &mut raw,
        )
    };
    let result = if hr < 0 || raw.is_null() {
        Err(io::Error::other(format!(
            "Windows did not name the ProgramData folder (HRESULT {hr:#010x})"
        )))
    } else {
        // SAFETY: on success `raw` is a NUL-terminated path.
        Ok(PathBuf::from(OsString::from_wide(&unsafe {
            read_wide(raw, None)
        })))
    };
    // SAFETY: documented: the caller frees the buffer with CoTaskMemFree, even on failure.
    unsafe { CoTaskMemFree(raw as *const c_void) };
    result
}

/// The owner and DACL of a file or directory, in SDDL.
pub fn security_descriptor(path: &Path) -> io::Result<String> {
    let name = wide(path.as_os_str())?;
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    let info = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    // SAFETY: NUL-terminated name; the owner and DACL out pointers are not asked for (null);
    // `sd` receives a LocalAlloc'd descriptor, freed by the guard.
    let rc = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            info,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            &mut sd,
        )
    };
    win32(rc)?;
    let _sd = Local(sd);
    let mut text: PWSTR = null_mut();
    let mut len = 0u32;
    // SAFETY: `sd` is the valid descriptor just read; `text` receives a LocalAlloc'd string.
    let ok = unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd,
            SDDL_REVISION_1,
            info,
            &mut text,
            &mut len,
        )
    };
    if ok == 0 || text.is_null() {
        return Err(io::Error::last_os_error());
    }
    let _text = Local(text.cast());
    // SAFETY: a NUL-terminated string of at most `len` units.
    let units = unsafe { read_wide(text, Some(len as usize)) };
    Ok(String::from_utf16_lossy(&units))
}

/// Writes the DACL of `sddl` on `path`, protected (nothing inherited from the parent), and its
/// owner too when `with_owner` (which needs the right to take ownership: an administrator).
pub fn set_security(path: &Path, sddl: &str, with_owner: bool) -> io::Result<()> {
    let name = wide(path.as_os_str())?;
    let text = wide(OsStr::new(sddl))?;
    let mut sd: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: NUL-terminated SDDL; `sd` receives a LocalAlloc'd descriptor (freed by the guard);
    // the size is not asked for.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            text.as_ptr(),
            SDDL_REVISION_1,
            &mut sd,
            null_mut(),
        )
    };
    if ok == 0 || sd.is_null() {
        return Err(io::Error::last_os_error());
    }
    let _sd = Local(sd);
    let (mut present, mut defaulted) = (0, 0);
    let mut dacl: *mut ACL = null_mut();
    // SAFETY: `sd` is valid; `dacl` will point inside it, which outlives its use below.
    let ok = unsafe { GetSecurityDescriptorDacl(sd, &mut present, &mut dacl, &mut defaulted) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    if present == 0 || dacl.is_null() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the descriptor has no access list",
        ));
    }
    let mut owner: PSID = null_mut();
    // SAFETY: as above; `owner` points inside `sd` or stays null.
    let ok = unsafe { GetSecurityDescriptorOwner(sd, &mut owner, &mut defaulted) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut info = DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION;
    if with_owner && !owner.is_null() {
        info |= OWNER_SECURITY_INFORMATION;
    } else {
        owner = null_mut();
    }
    // SAFETY: NUL-terminated name; `owner` and `dacl` point inside the live `sd`; no group, no
    // SACL.
    let rc = unsafe {
        SetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            info,
            owner,
            null_mut(),
            dacl,
            null_mut(),
        )
    };
    win32(rc)
}

/// The SID of the user this process runs as (`S-1-5-21-…`).
pub fn current_user_sid() -> io::Result<String> {
    let mut token: HANDLE = null_mut();
    // SAFETY: no arguments; returns the process's pseudo-handle, which needs no closing.
    let process = unsafe { GetCurrentProcess() };
    // SAFETY: `process` is this process; `token` receives a handle we close.
    let ok = unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let token = Handle(token);
    let mut needed = 0u32;
    // SAFETY: a size query: no buffer, `needed` receives the size. It "fails" by design.
    unsafe { GetTokenInformation(token.0, TokenUser, null_mut(), 0, &mut needed) };
    if needed == 0 {
        return Err(io::Error::last_os_error());
    }
    // u64s: TOKEN_USER needs pointer alignment.
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buf` holds at least `needed` bytes, aligned for TOKEN_USER.
    let ok = unsafe {
        GetTokenInformation(
            token.0,
            TokenUser,
            buf.as_mut_ptr().cast(),
            needed,
            &mut needed,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success the buffer starts with a TOKEN_USER whose SID points into the buffer.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: PWSTR = null_mut();
    // SAFETY: `sid` is valid while `buf` lives; `text` receives a LocalAlloc'd string.
    let ok = unsafe { ConvertSidToStringSidW(sid, &mut text) };
    if ok == 0 || text.is_null() {
        return Err(io::Error::last_os_error());
    }
    let _text = Local(text.cast());
    // SAFETY: a NUL-terminated string.
    Ok(String::from_utf16_lossy(&unsafe { read_wide(text, None) }))
}

/// Bytes this user may still write on the volume that holds `dir`.
pub fn available_space(dir: &Path) -> io::Result<u64> {
    let name = wide(dir.as_os_str())?;
    let mut free = 0u64;
    // SAFETY: NUL-terminated name; one out value, the totals not asked for.
    let ok = unsafe { GetDiskFreeSpaceExW(name.as_ptr(), &mut free, null_mut(), null_mut()) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(free)
}

/// Adds `handler` to the console's control handlers (`SetConsoleCtrlHandler`).
pub fn add_console_handler(
    handler: unsafe extern "system" fn(u32) -> windows_sys::core::BOOL,
) -> io::Result<()> {
    // SAFETY: a function that lives for the whole program.
    let ok = unsafe { SetConsoleCtrlHandler(Some(handler), 1) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether this process runs under Wine (its ntdll exports `wine_get_version`). Wine 8 accepts
/// an access list but keeps only what the file's Unix mode can say, so a test that reads a list
/// back needs to know.
pub fn under_wine() -> bool {
    let ntdll = wide(OsStr::new("ntdll.dll")).unwrap_or_default();
    // SAFETY: a NUL-terminated module name; ntdll is loaded in every process and never unloaded.
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return false;
    }
    // SAFETY: a valid module handle and a NUL-terminated ASCII name.
    unsafe { GetProcAddress(module, c"wine_get_version".as_ptr().cast()) }.is_some()
}

/// Shows a modal message box with an OK button and waits for it (no owner window: the desk has
/// none yet when it needs this).
pub fn message_box(title: &str, text: &str) {
    let (Ok(title), Ok(text)) = (wide(OsStr::new(title)), wide(OsStr::new(text))) else {
        return;
    };
    // SAFETY: NUL-terminated strings that live across the call; no owner window.
    unsafe {
        MessageBoxW(
            null_mut(),
            text.as_ptr(),
            title.as_ptr(),
            MB_OK | MB_ICONERROR | MB_SETFOREGROUND,
        )
    };
}
