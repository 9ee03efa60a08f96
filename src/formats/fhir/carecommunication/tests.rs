use super::out::push_escaped_attr;

#[test]
fn attribute_values_escape_markup_quotes_and_line_breaks_in_runs() {
    let mut out = String::from("x=\"");
    push_escaped_attr(&mut out, "a&b<c>d\"e\nf\r\ng\th 'æ' ø&");
    assert_eq!(out, "x=\"a&amp;b&lt;c&gt;d&quot;e&#xA;f&#xD;&#xA;g&#x9;h 'æ' ø&amp;");
    let mut plain = String::new();
    push_escaped_attr(&mut plain, "Østergaard");
    assert_eq!(plain, "Østergaard");
}
