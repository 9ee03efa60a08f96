use super::layout::wrap;

#[test]
fn wrap_breaks_at_spaces_and_cuts_overlong_words() {
    let w = |_: char| 1.0;
    assert_eq!(wrap("aaa bbb ccc", w, 7.0), vec!["aaa bbb", "ccc"]);
    assert_eq!(wrap("aaa bbb ccc ddd", w, 8.0), vec!["aaa bbb", "ccc ddd"]);
    assert_eq!(wrap("abcdefghij", w, 4.0), vec!["abcd", "efgh", "ij"]);
    assert_eq!(wrap("æøåæøå", w, 4.0), vec!["æøåæ", "øå"]);
    assert_eq!(wrap("ab", w, 4.0), vec!["ab"]);
    assert!(wrap("", w, 4.0).is_empty());
    // Every character is kept (but the spaces where lines break).
    let text = "Du skal have en ny knogleskanning om 5 år, det vil sige i 2030. Inden da skal du bestille tid.";
    let letters = |s: &str| s.replace(' ', "");
    for max in [5.0, 9.0, 14.0, 30.0] {
        let lines = wrap(text, w, max);
        assert!(lines.iter().all(|l| l.chars().count() as f32 <= max), "{lines:?}");
        assert!(lines.iter().all(|l| !l.starts_with(' ')), "{lines:?}");
        assert_eq!(letters(&lines.concat()), letters(text), "max {max}");
        if max >= 14.0 {
            // No word is longer than the line: only spaces break it.
            assert_eq!(lines.join(" "), text, "max {max}");
        }
    }
}
