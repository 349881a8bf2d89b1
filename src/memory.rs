//! Process-wide allocator tuning.
//!
//! Every password check allocates argon2id's working memory (19 MiB) and frees it again. glibc
//! then raises its mmap threshold to that size ("dynamic threshold"), so later blocks of that
//! size come from the heap and stay resident after being freed: the process would keep tens of
//! MiB after a few logins. Fixing the threshold keeps large blocks in their own mappings, which
//! go back to the system when freed (measured: idle RSS 46 → 22 MiB, see docs/benchmarks.md).

/// Fixes glibc's mmap threshold at its default of 128 KiB (no-op elsewhere).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes allocator parameters; it is called once, before any
        // thread is started, with a documented parameter and value.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
        if ok != 1 {
            eprintln!("Hinweis: mallopt(M_MMAP_THRESHOLD) wurde nicht übernommen");
        }
    }
}
