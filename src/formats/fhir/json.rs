//! FHIR JSON (`application/fhir+json`) read with serde_json and written as the FHIR XML it
//! stands for (the R4 mapping of the two formats, <https://hl7.org/fhir/R4/json.html>), so a JSON
//! Acknowledgement is judged by the same schema and rules and read by the same reader as an
//! XML one: there is one model, one set of rules.
//!
//! The mapping: `resourceType` names the resource's element; a primitive `"x": v` is
//! `<x value="v"/>`, its `"_x": {...}` (id, extensions) the same element's content; an array is
//! the element repeated (`_x` arrays aligned, `null` where one side has nothing); `url` of an
//! extension and `id` of an element (not of a resource) are attributes; `div` is the narrative's
//! XHTML, as it is. Keys keep the order they come in (the XML schema then checks R4's order, as
//! it does for XML; MedCom's examples and the usual FHIR serialisers write that order).
//!
//! Each element goes on a line of its own, and the JSON path of each line is kept, so a problem
//! found in the XML is reported at the JSON key it came from ([`FromJson::located`]).

use super::consts::NAMESPACE as FHIR_NAMESPACE;
use crate::schema::Problem;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt::{self, Write};

/// A JSON value with its keys in document order (serde_json's own map sorts them unless a
/// crate-wide feature is turned on, which would reorder every JSON line flspost prints).
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Null,
    /// A primitive's text as FHIR XML writes it (`true`, `3.5`, a string).
    Primitive(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Node, E> {
                Ok(Node::Primitive(b.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Node, E> {
                Ok(Node::Primitive(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Node, E> {
                Ok(Node::Primitive(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Node, E> {
                Ok(Node::Primitive(n.to_string()))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Node, E> {
                Ok(Node::Primitive(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Node, E> {
                Ok(Node::Primitive(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = vec![];
                while let Some(n) = a.next_element()? {
                    v.push(n);
                }
                Ok(Node::Array(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v: Vec<(String, Node)> = vec![];
                while let Some((k, n)) = a.next_entry::<String, Node>()? {
                    if v.iter().any(|(seen, _)| *seen == k) {
                        return Err(de::Error::custom(format!("the key `{k}` appears twice in one object")));
                    }
                    v.push((k, n));
                }
                Ok(Node::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A FHIR JSON document as FHIR XML, and where each line of that XML came from in the JSON.
#[derive(Debug)]
pub struct FromJson {
    pub xml: Vec<u8>,
    /// The JSON path (`Bundle.entry[0].resource.response.code`) of each XML line, from line 1.
    paths: Vec<String>,
}

impl FromJson {
    /// `problems` found in [`FromJson::xml`], placed at the JSON keys they came from: no line
    /// or column (the JSON's own are not the XML's), the path first in the message.
    pub fn located(&self, problems: Vec<Problem>) -> Vec<Problem> {
        problems
            .into_iter()
            .map(|p| {
                let path = p.line.and_then(|l| self.paths.get((l as usize).checked_sub(1)?)).filter(|s| !s.is_empty());
                match path {
                    Some(path) => Problem { line: None, column: None, message: format!("JSON {path}: {}", p.message) },
                    None => Problem { line: None, column: None, message: p.message },
                }
            })
            .collect()
    }
}

fn problem(message: impl Into<String>) -> Problem {
    Problem { line: None, column: None, message: message.into() }
}

/// Reads a FHIR JSON resource (a Bundle, in flspost's use) and writes its FHIR XML. `Err`:
/// not JSON (serde_json's reason, with its line and column), or not a FHIR resource.
pub fn to_xml(bytes: &[u8]) -> Result<FromJson, Problem> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: Node = serde_json::from_slice(text).map_err(|e| Problem {
        line: u32::try_from(e.line()).ok(),
        column: u32::try_from(e.column()).ok(),
        message: format!("not valid JSON: {e}"),
    })?;
    let Node::Object(members) = &root else {
        return Err(problem("a FHIR JSON resource is an object with `resourceType`"));
    };
    let Some(resource_type) = resource_type(members) else {
        return Err(problem("a FHIR JSON resource is an object with `resourceType`"));
    };
    let mut w = Writer { out: String::with_capacity(text.len() * 2), paths: vec![String::new()] };
    w.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    w.resource(resource_type, members, resource_type, true)?;
    w.out.push('\n');
    Ok(FromJson { xml: w.out.into_bytes(), paths: w.paths })
}

fn resource_type(members: &[(String, Node)]) -> Option<&str> {
    match members.iter().find(|(k, _)| k == "resourceType") {
        Some((_, Node::Primitive(t))) if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()) => Some(t),
        _ => None,
    }
}

struct Writer {
    out: String,
    paths: Vec<String>,
}

impl Writer {
    /// Starts a line for the element at JSON path `path`.
    fn line(&mut self, path: &str) {
        self.out.push('\n');
        self.paths.push(path.to_string());
    }

    fn resource(&mut self, name: &str, members: &[(String, Node)], path: &str, root: bool) -> Result<(), Problem> {
        self.line(path);
        write!(self.out, "<{name}").ok();
        if root {
            write!(self.out, " xmlns=\"{FHIR_NAMESPACE}\"").ok();
        }
        self.out.push('>');
        self.members(members, path, true, false)?;
        write!(self.out, "</{name}>").ok();
        Ok(())
    }

    /// The members of an object: each key as its element(s), `_key` merged into `key`'s.
    /// `url_attribute`: the object is an extension, whose `url` is an attribute (written by the
    /// caller); anywhere else (`Attachment.url`, `Provenance`...) `url` is an element.
    fn members(
        &mut self,
        members: &[(String, Node)],
        path: &str,
        in_resource: bool,
        url_attribute: bool,
    ) -> Result<(), Problem> {
        let get = |k: &str| members.iter().find(|(m, _)| m == k).map(|(_, n)| n);
        for (key, node) in members {
            if key == "resourceType" && in_resource {
                continue;
            }
            // An element's id and an extension's url are attributes (written by the caller).
            if !in_resource && (key == "id" || (key == "url" && url_attribute)) && matches!(node, Node::Primitive(_)) {
                continue;
            }
            if let Some(base) = key.strip_prefix('_') {
                // Only on its own when there is no value beside it.
                if get(base).is_some() {
                    continue;
                }
                self.element(base, None, Some(node), &format!("{path}.{key}"))?;
                continue;
            }
            if !valid_name(key) {
                return Err(problem(format!("JSON {path}: `{key}` is not a FHIR element name")));
            }
            let extra = get(&format!("_{key}"));
            self.element(key, Some(node), extra, &format!("{path}.{key}"))?;
        }
        Ok(())
    }

    /// Element `name` from its value (`node`) and its `_name` (`extra`), an array repeating it.
    fn element(&mut self, name: &str, node: Option<&Node>, extra: Option<&Node>, path: &str) -> Result<(), Problem> {
        match (node, extra) {
            (Some(Node::Array(values)), extra) => {
                let extras = match extra {
                    Some(Node::Array(e)) => e.as_slice(),
                    None => &[],
                    Some(_) => return Err(problem(format!("JSON {path}: its `_{name}` must be an array too"))),
                };
                for (i, v) in values.iter().enumerate() {
                    self.one(name, Some(v), extras.get(i), &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            (None, Some(Node::Array(extras))) => {
                for (i, e) in extras.iter().enumerate() {
                    self.one(name, None, Some(e), &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            (node, extra) => self.one(name, node, extra, path),
        }
    }

    fn one(&mut self, name: &str, node: Option<&Node>, extra: Option<&Node>, path: &str) -> Result<(), Problem> {
        let extra = extra.filter(|e| **e != Node::Null);
        match node.filter(|n| **n != Node::Null) {
            None if extra.is_none() => Err(problem(format!("JSON {path}: null where a value is expected"))),
            Some(Node::Array(_)) => Err(problem(format!("JSON {path}: an array inside an array"))),
            // The narrative: XHTML as it is (the schema and the rules judge it).
            Some(Node::Primitive(xhtml)) if name == "div" => {
                self.line(path);
                self.out.push_str(xhtml);
                Ok(())
            }
            Some(Node::Object(members)) => {
                // A contained resource (`resource`, `contained`): its type is its element.
                if let Some(t) = resource_type(members) {
                    self.line(path);
                    write!(self.out, "<{name}>").ok();
                    self.resource(t, members, &format!("{path}({t})"), false)?;
                    write!(self.out, "</{name}>").ok();
                    return Ok(());
                }
                self.line(path);
                write!(self.out, "<{name}").ok();
                let extension = is_extension(name);
                self.attributes(members, extension);
                self.out.push('>');
                self.members(members, path, false, extension)?;
                write!(self.out, "</{name}>").ok();
                Ok(())
            }
            value => {
                self.line(path);
                write!(self.out, "<{name}").ok();
                let extra_members = match extra {
                    Some(Node::Object(m)) => m.as_slice(),
                    Some(_) => return Err(problem(format!("JSON {path}: its `_{name}` must be an object"))),
                    None => &[],
                };
                self.attributes(extra_members, false);
                if let Some(Node::Primitive(v)) = value {
                    self.out.push_str(" value=\"");
                    escape_attribute(&mut self.out, v);
                    self.out.push('"');
                }
                if extra_members.iter().any(|(k, _)| k != "id") {
                    self.out.push('>');
                    self.members(extra_members, &format!("{path}(_{name})"), false, false)?;
                    write!(self.out, "</{name}>").ok();
                } else {
                    self.out.push_str("/>");
                }
                Ok(())
            }
        }
    }

    /// `id` of an element and `url` of an extension (`url_attribute`), as XML attributes.
    fn attributes(&mut self, members: &[(String, Node)], url_attribute: bool) {
        for key in ["id", "url"] {
            if key == "url" && !url_attribute {
                continue;
            }
            if let Some((_, Node::Primitive(v))) = members.iter().find(|(k, _)| k == key) {
                write!(self.out, " {key}=\"").ok();
                escape_attribute(&mut self.out, v);
                self.out.push('"');
            }
        }
    }
}

/// Whether element `name` is an extension: FHIR XML writes its `url` as an attribute.
fn is_extension(name: &str) -> bool {
    matches!(name, "extension" | "modifierExtension")
}

/// FHIR element names are letters and digits (choice types included: `valueCoding`).
fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && name.chars().all(|c| c.is_ascii_alphanumeric())
}

fn escape_attribute(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_arrays_extensions_and_narratives_map_to_fhir_xml() {
        let json = br#"{"resourceType":"Bundle","id":"b1","meta":{"profile":["p1","p2"]},
            "entry":[{"fullUrl":"u","resource":{"resourceType":"MessageHeader","id":"h",
              "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &amp; b</p></div>"},
              "extension":[{"url":"x","valueCoding":{"code":"c"}}],
              "birthDate":"2020","_birthDate":{"extension":[{"url":"y","valueBoolean":true}]},
              "response":{"id":"r1","identifier":"a\"b","code":"ok"},
              "source":{"url":"https://e.example/x","endpoint":"e"}}}]}"#;
        let x = to_xml(json).unwrap();
        let xml = String::from_utf8(x.xml.clone()).unwrap();
        let doc = crate::formats::fhir::dom::Document::parse(&x.xml).unwrap();
        let root = doc.root();
        assert_eq!((root.name(), root.value_at(&["id"])), ("Bundle", Some("b1")));
        let profiles: Vec<_> = root.all(&["meta", "profile"]).iter().filter_map(|p| p.value()).collect();
        assert_eq!(profiles, ["p1", "p2"]);
        let h = root.at(&["entry", "resource", "MessageHeader"]).unwrap();
        assert_eq!(h.value_at(&["response", "identifier"]), Some("a\"b"));
        assert!(xml.contains(r#"<response id="r1">"#), "{xml}");
        assert_eq!(h.extensions("x").next().unwrap().value_at(&["valueCoding", "code"]), Some("c"));
        assert_eq!(h.child("birthDate").unwrap().value(), Some("2020"));
        assert_eq!(h.at(&["birthDate", "extension"]).unwrap().url(), Some("y"));
        assert!(h.at(&["text", "div"]).unwrap().has_content());
        // `url` is an attribute only of an extension; elsewhere (Attachment.url) an element.
        assert_eq!(h.value_at(&["source", "url"]), Some("https://e.example/x"), "{xml}");
        assert!(!xml.contains("<source url="), "{xml}");
        // A problem in the XML is named by its JSON key.
        let line = h.at(&["response", "code"]).unwrap().line();
        let p = x.located(vec![Problem { line: Some(line), column: Some(1), message: "bad".into() }]);
        assert_eq!(p[0].message, "JSON Bundle.entry[0].resource(MessageHeader).response.code: bad");
    }

    #[test]
    fn what_is_not_a_fhir_json_resource_is_refused_with_a_reason() {
        assert!(to_xml(b"{\"resourceType\":").unwrap_err().message.starts_with("not valid JSON"));
        assert!(to_xml(b"[1]").unwrap_err().message.contains("resourceType"));
        assert!(to_xml(br#"{"id":"x"}"#).unwrap_err().message.contains("resourceType"));
        assert!(to_xml(br#"{"resourceType":"Bundle","id":"a","id":"b"}"#).unwrap_err().message.contains("twice"));
        assert!(to_xml(br#"{"resourceType":"Bundle","a<b":"x"}"#).unwrap_err().message.contains("not a FHIR element"));
        assert!(to_xml(br#"{"resourceType":"Bundle","id":null}"#).unwrap_err().message.contains("null"));
    }
}
