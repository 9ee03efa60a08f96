//! The words every layer shares about a letter: who it is for ([`Addressee`]), which kind of
//! message carries it ([`Kind`]: a wire format for an addressee), and whether it is new
//! or a correction ([`LetterStatus`]). Vocabulary only: nothing here knows how a format is
//! written, validated or sent.

/// Who a message is for. A result has one current letter per addressee; the patient's
/// letter may change format (MeMo or kombi) between revisions and keeps its numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Addressee {
    Gp,
    Patient,
}

/// Whether a letter is the first of its kind for a result or corrects one already sent.
/// Every format has both; the stored code is XDIS91's (`nytbrev`, `rettetbrev`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum LetterStatus {
    #[strum(serialize = "nytbrev")]
    New,
    #[strum(serialize = "rettetbrev")]
    Corrected,
}

impl LetterStatus {
    pub fn code(self) -> &'static str {
        self.into()
    }
}

/// The messages a result gives: the GP's copy in the format its receiver takes, and the
/// patient's letter in the hand-off the patient transport is configured for. Each kind is
/// one wire format for one addressee (`crate::formats` gives each its `WireFormat`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Kind {
    /// The copy to the patient's GP, MedCom XDIS91.
    #[serde(rename = "gp-xdis91")]
    GpXdis91,
    /// The copy to the patient's GP, MedCom FHIR CareCommunication in a VANSEnvelope.
    #[serde(rename = "gp-carecommunication")]
    #[strum(serialize = "gp-carecommunication")]
    GpCareCommunication,
    /// The letter to the patient, MeMo with a PDF (for a Digital Post client).
    #[serde(rename = "patient-memo")]
    PatientMemo,
    /// The letter to the patient as an SF1601 kombi request: the MeMo plus a fjernprint
    /// ForsendelseI with the same PDF, so the platform prints it for an exempt patient.
    #[serde(rename = "patient-kombi")]
    PatientKombi,
}

impl Kind {
    pub const ALL: &[Kind] = <Kind as strum::VariantArray>::VARIANTS;

    pub fn code(self) -> &'static str {
        self.into()
    }

    pub fn addressee(self) -> Addressee {
        match self {
            Kind::GpXdis91 | Kind::GpCareCommunication => Addressee::Gp,
            Kind::PatientMemo | Kind::PatientKombi => Addressee::Patient,
        }
    }

    pub fn from_code(s: &str) -> Option<Kind> {
        s.parse().ok()
    }

    /// The file name in a result's output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::GpXdis91 => "gp-xdis91.xml",
            Kind::GpCareCommunication => "gp-carecommunication.xml",
            Kind::PatientMemo => "patient-memo.xml",
            Kind::PatientKombi => "patient-kombi.xml",
        }
    }
}

/// The formats a GP's copy can travel in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum GpFormat {
    Xdis91,
    #[serde(rename = "carecommunication")]
    CareCommunication,
}

impl GpFormat {
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// A format name as SOR-EDI exports and people write it; `None` for formats flspost
    /// does not send.
    pub(crate) fn from_name(name: &str) -> Option<GpFormat> {
        match name.to_ascii_lowercase().as_str() {
            "xdis91" => Some(GpFormat::Xdis91),
            "carecommunication" | "care-communication" | "fdis91" => Some(GpFormat::CareCommunication),
            _ => None,
        }
    }
}
