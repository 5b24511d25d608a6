//! The `papo` binary: a thin shell over [`papo_server`].

use clap::Parser;
use papo_server::config::{Cli, Command};

/// mimalloc keeps per-connection allocations compact (measured in docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// mimalloc, asked through its plain entry points whenever they satisfy the alignment.
///
/// The `mimalloc` crate's allocator calls `mi_malloc_aligned` for every block. For a block
/// over 1 KiB whose size class is not a power of two that takes mimalloc's general aligned
/// path, which over-allocates by `align - 1` and marks the page as holding interior pointers:
/// ~90 instructions more than `mi_malloc` for the same block (`callgrind`, quick S1: ten
/// such blocks a session). Every mimalloc block is a whole number of 8-byte words from a
/// 16-byte aligned start, so any alignment up to 8 is met by `mi_malloc` itself, as by the
/// C library's `malloc` for Rust's own `System` allocator.
#[cfg(feature = "mimalloc")]
struct MiMalloc;

/// The largest alignment every mimalloc block has.
#[cfg(feature = "mimalloc")]
const PLAIN_ALIGN: usize = 8;

#[cfg(feature = "mimalloc")]
// SAFETY: every block comes from mimalloc and goes back to it; the plain entry points are
// used only for alignments they meet (`PLAIN_ALIGN`), the aligned ones otherwise.
unsafe impl std::alloc::GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions accept any size.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` was allocated by mimalloc (this allocator) and is not used again.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by mimalloc with `layout`'s alignment, which the new
        // block keeps.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// mimalloc's `purge_delay` option: its place in `mi_option_e` (mimalloc 3's `mimalloc.h`),
/// which `libmimalloc-sys` names no constant for. A test checks it holds mimalloc's default.
#[cfg(feature = "mimalloc")]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps a freed page before it gives it back to the system: 60 s, longer
/// than a gateway heartbeat (30 s). A session keeps the events it sent until its client
/// acknowledges them with a heartbeat, then frees them all at once, and the next ones fill
/// pages again. With mimalloc's default of 1 s, those pages went back to the system between
/// heartbeats and came back with a page fault each: at S4's 50k msg/s, 6,900–9,500 faults a
/// second and 2.4 % of the server's profile (docs/benchmarks/s4-writer.md, *Freed pages kept*).
#[cfg(feature = "mimalloc")]
const PURGE_DELAY_MS: std::ffi::c_long = 60_000;

/// Sets [`PURGE_DELAY_MS`] unless `MIMALLOC_PURGE_DELAY` chose a delay already. Called
/// before any other thread runs (mimalloc's options are not synchronized).
#[cfg(feature = "mimalloc")]
fn keep_freed_pages() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a valid option and value; no other thread runs yet.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) }
    }
}

fn main() -> anyhow::Result<()> {
    #[cfg(feature = "mimalloc")]
    keep_freed_pages();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config()?;
    papo_server::telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => papo_server::serve::run_until_signal(config).await,
        Command::Migrate => papo_server::serve::migrate(&config).await,
    }
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    use super::{MiMalloc, PURGE_DELAY, PURGE_DELAY_MS, keep_freed_pages};

    /// Sizes across mimalloc's small, medium and large blocks, odd ones included.
    fn sizes() -> impl Iterator<Item = usize> {
        (1..=2_100).chain([4_095, 4_096, 4_097, 9_000, 70_001, 600_000, 5 << 20])
    }

    #[test]
    fn freed_pages_are_kept_for_the_purge_delay_set_in_place_of_mimallocs_one_second() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading and setting a valid option (nothing else in this test binary sets
        // one).
        let before = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(
            before, 1_000,
            "option 15 is the purge delay, mimalloc's default 1 s"
        );
        keep_freed_pages();
        // SAFETY: as above.
        let after = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(after, PURGE_DELAY_MS);
    }

    #[test]
    fn every_block_has_the_alignment_asked_for_and_keeps_its_bytes() {
        for align in [1, 2, 4, 8, 16, 64, 4_096] {
            for size in sizes() {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; each block is freed once, with its layout.
                unsafe {
                    let p = MiMalloc.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    p.write_bytes(0xa5, size);
                    let grown = MiMalloc.realloc(p, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown {size}, align {align}");
                    assert_eq!(*grown.add(size - 1), 0xa5, "kept its bytes");
                    let shrunk = MiMalloc.realloc(grown, layout, size.div_ceil(2));
                    assert_eq!(shrunk as usize % align, 0, "shrunk {size}, align {align}");
                    assert_eq!(*shrunk, 0xa5);
                    let shrunk_layout = Layout::from_size_align(size.div_ceil(2), align).unwrap();
                    MiMalloc.dealloc(shrunk, shrunk_layout);

                    let z = MiMalloc.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "zeroed {size}, align {align}");
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|b| *b == 0));
                    MiMalloc.dealloc(z, layout);
                }
            }
        }
    }
}
