//! The server's log on standard error: one line per event, as text or (`[server] log =
//! "json"`) one JSON object per line with time, level, event and its fields. Every value is
//! masked for CPR-like numbers before it is written.

use flspost::support::redact::redact_cpr_like;
use std::io::Write;

#[derive(Clone)]
pub struct Log {
    pub json: bool,
}

impl Log {
    pub fn event(&self, event: &str, fields: &[(&str, String)]) {
        self.at("info", event, fields)
    }

    pub fn warn(&self, event: &str, fields: &[(&str, String)]) {
        self.at("warn", event, fields)
    }

    fn at(&self, level: &str, event: &str, fields: &[(&str, String)]) {
        let line = if self.json {
            let mut o = serde_json::Map::new();
            o.insert("time".into(), flspost::support::clock::now().to_rfc3339().into());
            o.insert("level".into(), level.into());
            o.insert("event".into(), event.into());
            for (k, v) in fields {
                o.insert((*k).into(), redact_cpr_like(v).into());
            }
            serde_json::Value::Object(o).to_string()
        } else {
            let mut s = format!("flspost serve: {event}");
            for (k, v) in fields {
                s.push_str(&format!(" {k}={}", redact_cpr_like(v).replace(['\n', '\r'], " ")));
            }
            s
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
