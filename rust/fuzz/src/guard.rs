//! What a panic handler cannot catch: an abort (a stack overflow, a failed
//! allocation, a panic while panicking) ends the process, and an endless loop
//! never returns. Both must still leave the input behind, or the bug found is
//! lost. The input being run is published here; a SIGABRT handler writes it
//! to a file with async-signal-safe calls only, and a watchdog thread writes
//! it and exits when one input runs too long.

use std::ffi::CString;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static INPUT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static INPUT_LEN: AtomicUsize = AtomicUsize::new(0);
/// Where an aborting input goes: a leaked C string, set per target.
static ABORT_PATH: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
/// When the running input started, in ms since [`epoch`]; 0 when idle.
static STARTED_MS: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Installs the SIGABRT handler and a watchdog that ends the process when one
/// input runs longer than `hang`.
pub fn install(hang: Duration) {
    let handler = on_abort as extern "C" fn(libc::c_int);
    // SAFETY: the handler only loads atomics and calls open, write and close.
    unsafe { libc::signal(libc::SIGABRT, handler as libc::sighandler_t) };
    epoch();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        let started = STARTED_MS.load(Ordering::Acquire);
        let now = epoch().elapsed().as_millis() as u64;
        if started != 0 && now.saturating_sub(started) > hang.as_millis() as u64 {
            let path = save_current("hang");
            eprintln!("an input has run for more than {hang:?}: saved to {path}");
            std::process::exit(1);
        }
    });
}

/// Sets the file an aborting input of the next target is written to.
pub fn set_abort_path(path: &Path) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("paths have no NUL");
    let old = ABORT_PATH.swap(c.into_raw(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: every pointer stored here came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(old) });
    }
}

/// Marks `input` as running until the returned guard drops.
pub fn running(input: &[u8]) -> Running<'_> {
    INPUT_LEN.store(input.len(), Ordering::Release);
    INPUT.store(input.as_ptr().cast_mut(), Ordering::Release);
    STARTED_MS.store(epoch().elapsed().as_millis() as u64 + 1, Ordering::Release);
    Running(PhantomData)
}

/// Borrows the input, which the handlers read, for as long as it runs.
pub struct Running<'a>(PhantomData<&'a [u8]>);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        STARTED_MS.store(0, Ordering::Release);
        INPUT.store(std::ptr::null_mut(), Ordering::Release);
    }
}

/// Writes the running input next to the abort path, suffixed `-<kind>`.
fn save_current(kind: &str) -> String {
    let path = ABORT_PATH.load(Ordering::Acquire);
    if path.is_null() {
        return "nowhere (no target running)".into();
    }
    // SAFETY: a live CString from `set_abort_path`; the input stays alive
    // while the watchdog runs, as the worker is stuck inside it.
    let path = unsafe { std::ffi::CStr::from_ptr(path) }.to_string_lossy().into_owned();
    let path = format!("{path}-{kind}");
    let input = INPUT.load(Ordering::Acquire);
    if !input.is_null() {
        let data = unsafe { std::slice::from_raw_parts(input, INPUT_LEN.load(Ordering::Acquire)) };
        if let Err(e) = std::fs::write(&path, data) {
            return format!("{path} (failed: {e})");
        }
    }
    path
}

extern "C" fn on_abort(_sig: libc::c_int) {
    let path = ABORT_PATH.load(Ordering::Acquire);
    let input = INPUT.load(Ordering::Acquire);
    if path.is_null() || input.is_null() {
        return;
    }
    let len = INPUT_LEN.load(Ordering::Acquire);
    // SAFETY: async-signal-safe calls on a NUL-terminated path and the
    // published input, which lives until `Running` drops.
    unsafe {
        let fd = libc::open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644);
        if fd >= 0 {
            libc::write(fd, input.cast(), len);
            libc::close(fd);
            let msg = b"\nthanos-fuzz: the process aborted; the input is saved as ";
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::write(2, path.cast(), libc::strlen(path));
            libc::write(2, b"\n".as_ptr().cast(), 1);
        }
    }
    // Returning lets abort() reset the handler and raise SIGABRT again.
}
