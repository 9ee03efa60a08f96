//! Memory stays flat however long a batch is (the issue: under 100 MB for 100,000 lines;
//! `bench/compare.sh --memory` measures that). Here: the peak for 4,000 lines is hardly
//! above the peak for 1,000, which catches a cache or a queue that grows with the input.
//! Its own test binary, so the peak RSS of this process's children is the batches' alone:
//! `getrusage(RUSAGE_CHILDREN)` is per process, and in `tests/all` it would count every other
//! test's `flspost` runs too. It borrows `tests/all/common` rather than copying from it.

#[path = "all/common/mod.rs"]
#[allow(dead_code, unused_imports)] // the few helpers a memory test needs
mod common;
use common::*;

fn peak_rss_of_children_kb() -> i64 {
    // SAFETY: getrusage fills the struct we pass.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_maxrss
    }
}

fn batch(w: &World, name: &str, n: usize) {
    let input = w.write(&format!("{name}.jsonl"), &sample_lines(name, n).join("\n"));
    w.run(&["generate", input.to_str().unwrap()]).ok();
}

#[test]
fn memory_does_not_grow_with_the_batch() {
    let small = World::new();
    batch(&small, "S", 1000);
    let after_small = peak_rss_of_children_kb();
    let large = World::new();
    batch(&large, "L", 4000);
    let after_large = peak_rss_of_children_kb();
    eprintln!("peak RSS: 1,000 lines {} MB, 4,000 lines {} MB", after_small / 1024, after_large / 1024);
    assert!(after_large < 100 * 1024, "peak RSS {} MB", after_large / 1024);
    assert!(
        after_large - after_small < 20 * 1024,
        "memory grew with the input: {} MB -> {} MB",
        after_small / 1024,
        after_large / 1024
    );
}
