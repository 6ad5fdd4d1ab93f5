//! The allocator settings of a process that runs one trial (nextest). glibc serves every
//! allocation of 128 KiB or more (a job's response body, its decoded image,
//! the PNG decoder's buffers) with a fresh `mmap` and returns it with `munmap`
//! when freed, so each one is paid again in page faults the next time. Under
//! nextest a process lives for one trial, and those first-touch faults were
//! most of what it cost over the same trial in a shared process. Serving them
//! from the heap, and keeping freed memory there for reuse, took about 100 of
//! the ~780 page faults of a one-image trial (~0.6 ms of its CPU); since the
//! answer and its base64 text reuse their own buffers (client/body.rs,
//! unbase64.rs) it still takes ~30 of ~640 and 0.15 to 0.3 ms (`perf stat
//! -r 30` on one trial, with and without). `benches/nextest_scale.rs` shows
//! both side by side.

/// Largest allocation still served from the heap (glibc's ceiling on 64-bit).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;
/// Free memory kept at the heap's top before it is returned to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 64 << 20;

/// Applies the settings; a no-op where the allocator is not glibc's, or when
/// the user tunes malloc themselves (`GLIBC_TUNABLES` or `MALLOC_*_` set).
pub(crate) fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let user_tuned = std::env::vars_os().any(|(k, _)| {
            let k = k.to_string_lossy();
            k == "GLIBC_TUNABLES" || (k.starts_with("MALLOC_") && k.ends_with('_'))
        });
        if user_tuned {
            return;
        }
        // SAFETY: mallopt only changes allocator parameters; glibc documents it as
        // callable at any time, and these values are within its accepted range.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
