//! The SF1601 KombiPostAfsend request (`kombi_request`): one request that reaches every
//! patient. `KombiValgKode` `Automatisk Valg` lets the platform choose: Digital Post for a
//! citizen who has it (the MeMo part), print and post for one who is exempt (the fjernprint
//! `ForsendelseI` part, carrying the same PDF and the patient's postal address).
//!
//! The envelope has no namespace (the shape itk-dev/serviceplatformen and OS2forms send);
//! each part declares its own namespaces with the prefixes the platform has been seen to
//! need (`memo:`, `fjernprint:`), so either part can be cut out and read alone. UTF-8 with
//! a declaration that says so (SF1601 refused requests without one).

use crate::formats::xml::Xml;
use crate::input::InputError;
use crate::model::Address;
use base64::Engine;

use crate::schema::namespaces::DKAL;
pub use crate::schema::namespaces::FJERNPRINT;
const ADIR: &str = "urn:oio:adir:dagpenge:2009.07.01";
const SAGDOK: &str = "urn:oio:sagdok:3.0.0";
const ITST: &str = "http://rep.oio.dk/itst.dk/xml/schemas/2006/01/17/";
const DKCC_2003: &str = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/";
const DKCC_2005_03: &str = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/";
const DKCC_2005_05: &str = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/05/19/";

/// The platform chooses Digital Post or print.
pub(crate) const CHOICE: &str = "Automatisk Valg";
/// An address label line (CPR_CompletePostalLabelText).
pub(crate) const LABEL_LINE_MAX: usize = 34;
/// ITST_PersonName.
pub(crate) const NAME_MAX: usize = 130;

pub struct Kombi<'a> {
    /// The MeMo message, as written (with its XML declaration).
    pub memo: &'a [u8],
    /// AfsendelseIdentifikator: the MeMo message UUID, so both parts name one letter.
    pub shipment_id: &'a str,
    /// ForsendelseTypeIdentifikator, when the print agreement gives one.
    pub print_type: Option<u32>,
    pub recipient_name: &'a str,
    /// The patient's address: required, the print service posts to it.
    pub address: Option<&'a Address>,
    pub title: &'a str,
    pub pdf: &'a [u8],
}

/// `value` is the label line as printed (for the city: postcode and city).
fn label_line(field: &str, value: &str) -> Result<(), InputError> {
    let n = value.chars().count();
    if n > LABEL_LINE_MAX {
        return Err(InputError::new(
            field,
            format!("the address line `{value}` is {n} characters long; print allows at most {LABEL_LINE_MAX}"),
        ));
    }
    Ok(())
}

/// What print needs of the patient: an address, Danish, in label lines that fit; a name
/// that fits. Checked when the input is read, so a result that cannot be printed is refused
/// before anything is written. Returns the address.
pub(crate) fn check_recipient<'a>(name: &str, address: Option<&'a Address>) -> Result<&'a Address, InputError> {
    let a = address.ok_or_else(|| {
        InputError::new(
            "patient.address",
            "is required: the kombi hand-off prints and posts the letter when the patient is exempt from Digital Post",
        )
    })?;
    if !(a.postcode.len() == 4 && a.postcode.bytes().all(|b| b.is_ascii_digit())) {
        return Err(InputError::new("patient.address.postcode", "must be a Danish postcode of 4 digits for print"));
    }
    label_line("patient.address.street", &a.street)?;
    label_line("patient.address.city", &format!("{} {}", a.postcode, a.city))?;
    if name.chars().count() > NAME_MAX {
        return Err(InputError::new(
            "patient.surname",
            format!("the name is longer than the {NAME_MAX} characters print allows"),
        ));
    }
    Ok(a)
}

pub fn write(k: &Kombi<'_>) -> Result<Vec<u8>, InputError> {
    let a = check_recipient(k.recipient_name, k.address)?;
    let town = format!("{} {}", a.postcode, a.city);
    let memo = std::str::from_utf8(k.memo).map_err(|_| InputError::new("MeMo", "is not UTF-8"))?;
    let memo = memo.trim_start_matches(|c| c != '\n').trim(); // without its XML declaration

    let b64_len = k.pdf.len().div_ceil(3) * 4;
    let mut out = Vec::with_capacity(4096 + memo.len() + b64_len);
    out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kombi_request>\n");
    out.extend_from_slice(format!("<KombiValgKode>{CHOICE}</KombiValgKode>\n").as_bytes());
    // The MeMo exactly as written and checked on its own: its bytes, not a re-serialisation.
    out.extend_from_slice(memo.as_bytes());
    out.push(b'\n');
    let mut x = Xml::after(out);

    x.start_with("fjernprint:ForsendelseISamling", &[("xmlns:fjernprint", FJERNPRINT)]);
    x.start_with(
        "fjernprint:ForsendelseI",
        &[
            ("xmlns:fjernprint", FJERNPRINT),
            ("xmlns:dkal", DKAL),
            ("xmlns:adir", ADIR),
            ("xmlns:sd", SAGDOK),
            ("xmlns:itst", ITST),
            ("xmlns:dkcc", DKCC_2003),
            ("xmlns:dkcc2005", DKCC_2005_03),
            ("xmlns:dkcc2005-3", DKCC_2005_05),
        ],
    );
    x.leaf("fjernprint:AfsendelseIdentifikator", k.shipment_id);
    if let Some(t) = k.print_type {
        x.leaf("fjernprint:ForsendelseTypeIdentifikator", &t.to_string());
    }
    x.start("fjernprint:ForsendelseModtager");
    x.start("dkal:AfsendelseModtager");
    // "Unknown" CPR with the full address: the SF1601 field description's rule when the
    // sender gives the address (as OS2forms does); the CPR is in the MeMo part.
    x.leaf("adir:CPRnummerIdentifikator", "0000000000");
    x.end("dkal:AfsendelseModtager");
    x.start("fjernprint:ModtagerAdresse");
    x.leaf("itst:PersonName", k.recipient_name);
    x.leaf("dkcc2005-3:PostalAddressFirstLineText", &a.street);
    x.leaf("dkcc2005-3:PostalAddressSecondLineText", &town);
    x.leaf("dkcc2005:PostCodeIdentifier", &a.postcode);
    x.start_with("dkcc:CountryIdentificationCode", &[("scheme", "iso3166-alpha2")]);
    x.text("DK");
    x.end("dkcc:CountryIdentificationCode");
    x.end("fjernprint:ModtagerAdresse");
    x.end("fjernprint:ForsendelseModtager");
    x.leaf("dkal:FilformatNavn", "PDF");
    x.start("dkal:MeddelelseIndholdData");
    let b64 = base64::engine::general_purpose::STANDARD.encode(k.pdf);
    x.raw(&b64);
    x.end("dkal:MeddelelseIndholdData");
    x.start("fjernprint:DokumentParametre");
    x.leaf("sd:TitelTekst", k.title);
    x.end("fjernprint:DokumentParametre");
    x.start("fjernprint:PostParametre");
    x.leaf("fjernprint:PostKategoriKode", "Prioritaire");
    x.end("fjernprint:PostParametre");
    x.end("fjernprint:ForsendelseI");
    x.end("fjernprint:ForsendelseISamling");
    let mut out = x.into_inner();
    out.extend_from_slice(b"\n</kombi_request>\n");
    Ok(out)
}
