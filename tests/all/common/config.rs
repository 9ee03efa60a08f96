//! Config files for a test, from the settings it needs: `w.config("c.toml", &ConfigOf { .. })`.
//! Paths in them are as flspost reads them: relative to the config's folder, or absolute.

use super::World;
use std::fmt::Write;
use std::path::PathBuf;

/// A transport of a config (`[transport.gp]`, `[transport.patient]`).
pub enum Transport<'a> {
    /// An outbox folder.
    Outbox(&'a str),
    /// An outbox folder that gets SF1601 kombi requests (`handoff = "kombi"`).
    Kombi(&'a str),
    /// SMTP to 127.0.0.1:`port`, from `fls@auh.example.dk` to `vans@vans.example.dk`.
    Smtp { port: u16, timeout_seconds: u32 },
}

/// What a test's config says; what is `None` is left out (flspost's default).
#[derive(Default)]
pub struct ConfigOf<'a> {
    /// `[gp] receivers`: the receiver table's path.
    pub receivers: Option<&'a str>,
    /// `[gp] default_format`.
    pub default_format: Option<&'a str>,
    /// `[gp] attach_pdf`.
    pub attach_pdf: Option<bool>,
    /// `[send] max_attempts`.
    pub max_attempts: Option<u32>,
    /// `[transport.gp]`.
    pub gp: Option<Transport<'a>>,
    /// `[transport.patient]`.
    pub patient: Option<Transport<'a>>,
    /// The `[resend]` table's lines (`preset = "certification"`, ...).
    pub resend: Option<&'a str>,
}

impl ConfigOf<'_> {
    /// Both transports as outbox folders, `vans/` and `dp/` beside the config.
    pub fn outboxes() -> ConfigOf<'static> {
        ConfigOf { gp: Some(Transport::Outbox("vans")), patient: Some(Transport::Outbox("dp")), ..ConfigOf::default() }
    }

    /// The config file's text.
    pub fn toml(&self) -> String {
        let mut t = String::new();
        if self.receivers.is_some() || self.default_format.is_some() || self.attach_pdf.is_some() {
            t.push_str("[gp]\n");
            if let Some(r) = self.receivers {
                writeln!(t, "receivers = \"{r}\"").unwrap();
            }
            if let Some(f) = self.default_format {
                writeln!(t, "default_format = \"{f}\"").unwrap();
            }
            if let Some(a) = self.attach_pdf {
                writeln!(t, "attach_pdf = {a}").unwrap();
            }
            t.push('\n');
        }
        if let Some(r) = self.resend {
            writeln!(t, "[resend]\n{r}\n").unwrap();
        }
        if let Some(n) = self.max_attempts {
            writeln!(t, "[send]\nmax_attempts = {n}\n").unwrap();
        }
        for (name, transport) in [("gp", &self.gp), ("patient", &self.patient)] {
            let Some(transport) = transport else { continue };
            writeln!(t, "[transport.{name}]").unwrap();
            match transport {
                Transport::Outbox(dir) => writeln!(t, "type = \"outbox\"\ndir = \"{dir}\""),
                Transport::Kombi(dir) => writeln!(t, "type = \"outbox\"\ndir = \"{dir}\"\nhandoff = \"kombi\""),
                Transport::Smtp { port, timeout_seconds } => writeln!(
                    t,
                    "type = \"smtp\"\nurl = \"smtp://127.0.0.1:{port}\"\nfrom = \"fls@auh.example.dk\"\n\
                     to = \"vans@vans.example.dk\"\ntimeout_seconds = {timeout_seconds}"
                ),
            }
            .unwrap();
            t.push('\n');
        }
        t
    }
}

impl World {
    /// Writes the config `c` to `file` in this world; returns its path.
    pub fn config(&self, file: &str, c: &ConfigOf) -> PathBuf {
        self.write(file, &c.toml())
    }
}
